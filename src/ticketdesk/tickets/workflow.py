"""The status machine: which status may follow which, as data. Pure: no I/O, no clock."""

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
