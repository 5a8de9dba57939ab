"""Who has a ticket open in the desk: a row per agent and ticket, kept alive by heartbeats.

A row lives for TTL after its last heartbeat (the page beats every 20 s), so a closed tab
disappears on its own; every server process reads the same table.
"""

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk.auth import policy
from ticketdesk.auth.models import User
from ticketdesk.tickets import service as tickets
from ticketdesk.web.models import Presence

TTL = timedelta(seconds=45)
MODES = frozenset({"viewing", "replying"})


async def heartbeat(
    session: AsyncSession, actor: User, ref: str, mode: str, *, now: datetime
) -> None:
    """`viewing` or `replying` renews the row; anything else (the tab closed) removes it."""
    ticket = await tickets.get_ticket(session, actor, ref, with_people=False)
    policy.require_staff(actor)
    await session.execute(
        delete(Presence).where(Presence.ticket_id == ticket.id, Presence.user_id == actor.id)
    )
    if mode in MODES:
        session.add(
            Presence(ticket_id=ticket.id, user_id=actor.id, mode=mode, expires_at=now + TTL)
        )
    await session.flush()


Someone = tuple[int, str, str]  # user id, name, mode


async def present(
    session: AsyncSession, ticket_ids: list[int], *, now: datetime
) -> dict[int, list[Someone]]:
    """Who is on each of these tickets now, by name."""
    if not ticket_ids:
        return {}
    query = (
        select(Presence.ticket_id, Presence.user_id, User.full_name, Presence.mode)
        .join(User, User.id == Presence.user_id)
        .where(Presence.ticket_id.in_(ticket_ids), Presence.expires_at > now)
        .order_by(Presence.ticket_id, User.full_name, Presence.user_id)
    )
    found: dict[int, list[Someone]] = {ticket_id: [] for ticket_id in ticket_ids}
    for ticket_id, user_id, name, mode in await session.execute(query):
        found[ticket_id].append((user_id, name, mode))
    return found


async def purge_expired(session: AsyncSession, *, now: datetime) -> None:
    await session.execute(delete(Presence).where(Presence.expires_at <= now))
