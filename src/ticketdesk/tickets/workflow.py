"""The status machine: which status may follow which, as data. Pure: no I/O, no clock."""

from datetime import datetime

from ticketdesk.tickets.models import Status

S = Status

TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.OPEN: frozenset({S.IN_PROGRESS, S.WAITING_ON_CUSTOMER, S.RESOLVED, S.CLOSED}),
    S.IN_PROGRESS: frozenset({S.WAITING_ON_CUSTOMER, S.RESOLVED, S.CLOSED}),
    S.WAITING_ON_CUSTOMER: frozenset({S.IN_PROGRESS, S.RESOLVED, S.CLOSED}),
    S.RESOLVED: frozenset({S.CLOSED, S.REOPENED, S.IN_PROGRESS}),
    S.CLOSED: frozenset({S.REOPENED}),
    S.REOPENED: frozenset({S.IN_PROGRESS, S.WAITING_ON_CUSTOMER, S.RESOLVED, S.CLOSED}),
}

# What a customer may do by hand: confirm a resolution, or reopen.
CUSTOMER_TRANSITIONS = frozenset(
    {(S.RESOLVED, S.CLOSED), (S.RESOLVED, S.REOPENED), (S.CLOSED, S.REOPENED)}
)

# Statuses in which the ticket still waits for a first move by staff.
AWAITING_STAFF = frozenset({S.OPEN, S.REOPENED})

# Display order of statuses, as a helpdesk lists them.
ORDER = tuple(Status)


def is_allowed(current: Status, target: Status) -> bool:
    return target in TRANSITIONS[current]


def allowed_targets(current: Status) -> list[Status]:
    """The statuses that may follow `current`, in display order."""
    return [s for s in ORDER if s in TRANSITIONS[current]]


def stamps(
    current: Status,
    target: Status,
    now: datetime,
    resolved_at: datetime | None,
    closed_at: datetime | None,
) -> tuple[datetime | None, datetime | None]:
    """`resolved_at` and `closed_at` after moving from `current` to `target`.

    Resolving stamps resolved_at; closing stamps closed_at, and resolved_at too when the ticket
    was never resolved (the resolution clock stops when work ends); reopening clears both; taking
    a resolved ticket back into work clears resolved_at, since it no longer stands.
    """
    if target == S.RESOLVED:
        return now, closed_at
    if target == S.CLOSED:
        return resolved_at or now, now
    if target == S.REOPENED:
        return None, None
    if current == S.RESOLVED:
        return None, closed_at
    return resolved_at, closed_at
