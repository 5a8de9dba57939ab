"""What a search query adds to a ticket list: the tickets it matches, and their rank."""

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Subquery, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk.auth import policy
from ticketdesk.auth.models import User
from ticketdesk.search.engines import engine_for
from ticketdesk.search.query import SearchQuery, Term, parse
from ticketdesk.tickets.models import Ticket


@dataclass
class Match:
    query: SearchQuery
    # `ticket_id`, `rank`: the tickets whose text matches; None when the query has no words.
    hits: Subquery | None
    conditions: list[ColumnElement[bool]] = field(default_factory=list)


def match(session: AsyncSession, actor: User, q: str) -> Match:
    """Customers' queries read public text only; staff's also internal notes."""
    query = parse(q)
    engine, staff = engine_for(session), policy.is_staff(actor)
    hits = engine.hits(query.terms, staff=staff).subquery("hits") if query.wanted else None
    conditions: list[ColumnElement[bool]] = [
        Ticket.ticket_number.like(f"%{number}%") for number in query.numbers
    ]
    for digits in query.digits:
        in_text = engine.hits((Term(digits),), staff=staff).subquery()
        either = union_all(
            select(Ticket.id).where(Ticket.ticket_number.like(f"%{digits}%")),
            select(in_text.c.ticket_id),
        )
        conditions.append(Ticket.id.in_(either))
    return Match(query, hits, conditions)
