"""Customer satisfaction: one rating per ticket, by its customer, while the ticket is resolved
or closed for less than 7 days; and the signed link a resolved-ticket mail carries."""

from datetime import datetime, timedelta
from urllib.parse import urlencode

import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk import clock, events
from ticketdesk.auth import policy
from ticketdesk.auth.models import User
from ticketdesk.errors import Conflict, Forbidden, NotFound
from ticketdesk.satisfaction.models import Rating, SatisfactionRating
from ticketdesk.satisfaction.schemas import RatingIn, SatisfactionRead
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.history import add_activity
from ticketdesk.tickets.models import Status, Ticket

CHANGEABLE_AFTER_CLOSE = timedelta(days=7)
LINK_LIFETIME = timedelta(days=30)
LINK_PATH = "/satisfaction/"


def changeable_until(ticket: Ticket) -> datetime | None:
    if ticket.status == Status.CLOSED and ticket.closed_at is not None:
        return ticket.closed_at + CHANGEABLE_AFTER_CLOSE
    return None


def can_rate(ticket: Ticket, now: datetime) -> bool:
    """Offered once the ticket is resolved; open until it has been closed 7 days. Merged
    tickets are not rated (the ticket they went into is)."""
    if ticket.merged_into_id is not None:
        return False
    if ticket.status == Status.RESOLVED:
        return True
    until = changeable_until(ticket)
    return until is not None and now < until


async def rate(
    session: AsyncSession, actor: User, ref: str, data: RatingIn
) -> tuple[SatisfactionRead, bool]:
    """Only the ticket's customer rates (403 for staff and for colleagues who see the ticket,
    404 for anyone else). True when this is the ticket's first rating."""
    ticket = await tickets.get_ticket(session, actor, ref, for_update=True, with_people=False)
    if policy.is_staff(actor) or ticket.user_id != actor.id:
        raise Forbidden("only the ticket's customer may rate it")
    return await record(session, actor, ticket, data)


async def record(
    session: AsyncSession, author: User, ticket: Ticket, data: RatingIn
) -> tuple[SatisfactionRead, bool]:
    """Stores the customer's rating (a second one replaces the first) while it may change."""
    now = clock.now()
    if not can_rate(ticket, now):
        raise Conflict(_not_open_reason(ticket))
    row = await session.get(SatisfactionRating, ticket.id, with_for_update=True)
    created = row is None
    if row is None:
        row = SatisfactionRating(ticket_id=ticket.id, user_id=author.id, created_at=now)
        session.add(row)
    row.rating, row.comment, row.updated_at = data.rating, data.comment, now
    add_activity(
        session, ticket, author, "satisfaction_rated", now=now,
        rating=data.rating, comment=data.comment,
    )  # fmt: skip
    await events.record(
        session,
        "csat.received",
        ticket=ticket,
        actor=author,
        data={"rating": data.rating, "comment": data.comment, "changed": not created},
        now=now,
    )
    await session.flush()
    return _read(ticket, row, now), created


def _not_open_reason(ticket: Ticket) -> str:
    if ticket.merged_into_id is not None:
        return "a merged ticket is not rated; rate the ticket it was merged into"
    if ticket.status == Status.CLOSED:
        return "the rating can no longer be changed: the ticket was closed more than 7 days ago"
    return "a ticket can be rated once it is resolved"


async def read(session: AsyncSession, actor: User, ref: str) -> SatisfactionRead:
    """The ticket's customer and staff; colleagues who see the ticket get 403."""
    ticket = await tickets.get_ticket(session, actor, ref, with_people=False)
    if not policy.is_staff(actor) and ticket.user_id != actor.id:
        raise Forbidden("only the ticket's customer and support staff see its rating")
    row = await session.get(SatisfactionRating, ticket.id)
    return _read(ticket, row, clock.now())


def _read(ticket: Ticket, row: SatisfactionRating | None, now: datetime) -> SatisfactionRead:
    return SatisfactionRead(
        ticket_id=ticket.id,
        rating=row.rating if row else None,
        comment=row.comment if row else None,
        created_at=row.created_at if row else None,
        updated_at=row.updated_at if row else None,
        can_rate=can_rate(ticket, now),
        changeable_until=changeable_until(ticket),
    )


# --- The signed link of the resolved-ticket mail ---------------------------------------------


def _link_key(key: str) -> str:
    """A key of its own, so that a link is never an access token and the other way round."""
    return f"{key}:satisfaction-link"


def link_token(ticket: Ticket, *, key: str, now: datetime) -> str:
    claims = {"tid": ticket.id, "uid": ticket.user_id, "exp": now + LINK_LIFETIME}
    return jwt.encode(claims, _link_key(key), algorithm="HS256")


def rating_url(
    ticket: Ticket, *, base_url: str, key: str, now: datetime, rating: Rating | None = None
) -> str:
    """The link for the resolved-ticket mail (`key`: the app's signing key). Opening it only
    shows a confirmation page; the rating is recorded by that page's POST."""
    url = f"{base_url.rstrip('/')}{LINK_PATH}{link_token(ticket, key=key, now=now)}"
    return f"{url}?{urlencode({'rating': rating.value})}" if rating else url


async def ticket_for_link(session: AsyncSession, token: str, *, key: str) -> tuple[Ticket, User]:
    """The ticket and customer a link names; any bad, expired or stale link is 404 alike."""
    try:
        claims = jwt.decode(
            token,
            _link_key(key),
            algorithms=["HS256"],
            options={"require": ["tid", "uid", "exp"], "verify_exp": False},
        )
        ticket_id, user_id, expires = int(claims["tid"]), int(claims["uid"]), claims["exp"]
    except (jwt.PyJWTError, ValueError, TypeError):
        raise NotFound("this link is not valid") from None
    if float(expires) <= clock.now().timestamp():
        raise NotFound("this link is not valid")
    query = (
        select(Ticket, User)
        .join(User, User.id == Ticket.user_id)
        .where(Ticket.id == ticket_id, User.id == user_id, User.is_active.is_(True))
    )
    found = (await session.execute(query)).first()
    if found is None:
        raise NotFound("this link is not valid")
    return found[0], found[1]


async def rate_by_link(
    session: AsyncSession, token: str, data: RatingIn, *, key: str
) -> SatisfactionRead:
    ticket, customer = await ticket_for_link(session, token, key=key)
    await session.refresh(ticket, with_for_update=True)
    read_back, _created = await record(session, customer, ticket, data)
    return read_back
