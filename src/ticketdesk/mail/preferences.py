"""Which notifications a user wants: one row per choice made, the role's default otherwise."""

from collections.abc import Iterable

from sqlalchemy import Boolean, bindparam, func, null, select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk.auth import policy
from ticketdesk.auth.models import STAFF_ROLES, User
from ticketdesk.errors import Invalid
from ticketdesk.mail.models import MailSuppression, NotificationPreference

CUSTOMER_DEFAULTS = {"ticket_received": True, "staff_reply": True, "status_changed": True}
# New-ticket mail is opt-in for all staff: a busy desk would drown in it.
STAFF_DEFAULTS = {
    "ticket_assigned": True,
    "customer_reply": True,
    "new_ticket": False,
    "sla_breach": True,
}


def defaults(user: User) -> dict[str, bool]:
    return dict(STAFF_DEFAULTS if policy.is_staff(user) else CUSTOMER_DEFAULTS)


async def get_preferences(session: AsyncSession, user: User) -> dict[str, bool]:
    choices = defaults(user)
    query = select(NotificationPreference).where(NotificationPreference.user_id == user.id)
    for row in await session.scalars(query):
        if row.kind in choices:
            choices[row.kind] = row.enabled
    return choices


async def update_preferences(
    session: AsyncSession, user: User, changes: dict[str, bool]
) -> dict[str, bool]:
    """Only the kinds of the user's role may be set."""
    allowed = defaults(user)
    for kind in changes:
        if kind not in allowed:
            raise Invalid(
                f"unknown notification kind for this account: {kind}; "
                f"allowed: {', '.join(allowed)}",
                field=kind,
            )
    for kind, enabled in changes.items():
        row = await session.get(NotificationPreference, (user.id, kind))
        if row is None:
            session.add(NotificationPreference(user_id=user.id, kind=kind, enabled=enabled))
        else:
            row.enabled = enabled
    await session.flush()
    return await get_preferences(session, user)


# Built once: these run for every mail-writing change.
_CHOICE = (
    select(NotificationPreference.enabled)
    .where(
        NotificationPreference.user_id == User.id,
        NotificationPreference.kind == bindparam("kind"),
    )
    .scalar_subquery()
)
_STAFF_WANTING = (
    select(User)
    .where(
        User.role.in_(STAFF_ROLES),
        User.is_active.is_(True),
        func.coalesce(_CHOICE, bindparam("default", type_=Boolean)).is_(True),
    )
    .order_by(User.id)
)


async def staff_wanting(session: AsyncSession, kind: str) -> list[User]:
    """Every active staff member whose choice (or, without one, the default) allows mail of
    this kind, chosen by the database: a desk's staff are not loaded to find the few who want
    new-ticket mail, which is opt-in."""
    params = {"kind": kind, "default": STAFF_DEFAULTS[kind]}
    return list(await session.scalars(_STAFF_WANTING, params))


# The choices of some users for some kinds, and which of some addresses are suppressed, in one
# statement: every mail a change writes asks both.
_GATES = (
    select(
        NotificationPreference.user_id,
        NotificationPreference.kind,
        NotificationPreference.enabled,
        null().label("email"),
    )
    .where(
        NotificationPreference.user_id.in_(bindparam("user_ids", expanding=True)),
        NotificationPreference.kind.in_(bindparam("kinds", expanding=True)),
    )
    .union_all(
        select(null(), null(), null(), MailSuppression.email).where(
            MailSuppression.email.in_(bindparam("addresses", expanding=True))
        )
    )
)


async def gates(
    session: AsyncSession, wanted: Iterable[tuple[User, str]]
) -> tuple[set[tuple[int, str]], set[str]]:
    """For (user, kind) pairs: those whose choice (or default) allows that kind of mail, and
    the lower-cased addresses among the users' that are suppressed (outbox.is_suppressed)."""
    wanted = [(user, kind) for user, kind in wanted if user.is_active]
    if not wanted:
        return set(), set()
    params = {
        "user_ids": sorted({user.id for user, _ in wanted}),
        "kinds": sorted({kind for _, kind in wanted}),
        "addresses": sorted({user.email.lower() for user, _ in wanted}),
    }
    chosen: dict[tuple[int, str], bool] = {}
    suppressed: set[str] = set()
    for user_id, kind, enabled, email in await session.execute(_GATES, params):
        if email is not None:
            suppressed.add(email)
        else:
            chosen[(user_id, kind)] = enabled
    allowed = {
        (user.id, kind)
        for user, kind in wanted
        if chosen.get((user.id, kind), defaults(user).get(kind, False))
    }
    return allowed, suppressed
