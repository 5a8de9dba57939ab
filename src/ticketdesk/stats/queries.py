"""Reporting as aggregate SQL: one pass over the tickets, nothing loaded row by row."""

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    func,
    not_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk import clock
from ticketdesk.auth.models import STAFF_ROLES, User
from ticketdesk.satisfaction.models import Rating, SatisfactionRating
from ticketdesk.sla import breach
from ticketdesk.tickets.models import Category, Priority, Status, Ticket

CLOSED_STATES = (Status.RESOLVED, Status.CLOSED)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _hours(dialect: str, start: Any, end: Any) -> ColumnElement[Any]:
    """The time from start to end in hours, on either backend."""
    if dialect == "postgresql":
        # date_part gives a float; extract() gives a slower numeric.
        return func.date_part("epoch", end - start) / 3600.0
    return (func.julianday(end) - func.julianday(start)) * 24.0


def _inline(moment: datetime) -> BindParameter[datetime]:
    """A date bound written into the SQL: PostgreSQL then plans each range for its own size
    (a prepared statement's generic plan can be twice as slow for a month's scan)."""
    return bindparam(None, moment, type_=Ticket.created_at.type, literal_execute=True)


def _percent(met: int | None, total: int | None) -> float | None:
    return round(100.0 * (met or 0) / total, 2) if total else None


def _round(value: float | None) -> float | None:
    return round(float(value), 2) if value is not None else None


async def overview(
    session: AsyncSession, *, start: date | None, end: date | None
) -> dict[str, Any]:
    """Counts, averages and SLA compliance over the tickets created in [start, end] (UTC days).

    Compliance is the share of tickets with a due time whose target was met: a first response
    (or resolution) no later than its due time. Tickets still waiting count as not met.
    """
    query = overview_query(session.get_bind().dialect.name, start=start, end=end)
    row = (await session.execute(query)).mappings().one()
    return {
        "total_tickets": row["total"],
        **{f"{s.value}_tickets": row[f"status_{s.value}"] or 0 for s in Status},
        "tickets_by_priority": {p.value: row[f"priority_{p.value}"] or 0 for p in Priority},
        "tickets_by_category": {c.value: row[f"category_{c.value}"] or 0 for c in Category},
        "average_resolution_time": _round(row["avg_resolution"]),
        "average_first_response_time": _round(row["avg_first_response"]),
        "sla_first_response_compliance": _percent(row["first_met"], row["first_due"]),
        "sla_resolution_compliance": _percent(row["resolution_met"], row["resolution_due"]),
        "satisfaction": await satisfaction(session, start=start, end=end),
    }


async def satisfaction(
    session: AsyncSession, *, start: date | None, end: date | None
) -> dict[str, Any]:
    """Good and bad ratings of the tickets created in [start, end], and the score."""
    r = SatisfactionRating
    query = select(
        _count(r.rating == Rating.GOOD).label("good"), _count(r.rating == Rating.BAD).label("bad")
    )
    low, high = clock.day_range(start, end)
    if low is not None or high is not None:
        query = query.join(Ticket, Ticket.id == r.ticket_id)
    if low is not None:
        query = query.where(Ticket.created_at >= _inline(low))
    if high is not None:
        query = query.where(Ticket.created_at < _inline(high))
    row = (await session.execute(query)).one()
    good, bad = row.good or 0, row.bad or 0
    return {"good": good, "bad": bad, "score": _percent(good, good + bad)}


async def agents(
    session: AsyncSession, *, start: date | None, end: date | None
) -> list[dict[str, Any]]:
    """Per staff member, over the tickets created in [start, end] assigned to them: how many,
    how many resolved, the average first response and resolution times (hours), and the
    satisfaction score. One grouped pass over the tickets, joined with the ratings.

    Merged tickets count as assigned but not as resolved: merging is not solving.
    """
    query = agents_query(session.get_bind().dialect.name, start=start, end=end)
    return [
        {
            "agent_id": row.agent_id,
            "name": row.name,
            "assigned": row.assigned or 0,
            "resolved": row.resolved or 0,
            "average_first_response_time": _round(row.avg_first_response),
            "average_resolution_time": _round(row.avg_resolution),
            "satisfaction_score": _percent(row.good, (row.good or 0) + (row.bad or 0)),
        }
        for row in await session.execute(query)
    ]


def agents_query(dialect: str, *, start: date | None, end: date | None) -> Select[Any]:
    t, r = Ticket, SatisfactionRating
    solved = and_(t.resolved_at.is_not(None), t.merged_into_id.is_(None))
    per_agent = (
        select(
            t.assigned_to_id.label("agent_id"),
            func.count().label("assigned"),
            _count(solved).label("resolved"),
            func.avg(_hours(dialect, t.created_at, t.first_response_at)).label(
                "avg_first_response"
            ),
            func.avg(
                case((solved, _hours(dialect, t.created_at, t.resolved_at)), else_=None)
            ).label("avg_resolution"),
            _count(r.rating == Rating.GOOD).label("good"),
            _count(r.rating == Rating.BAD).label("bad"),
        )
        .outerjoin(r, r.ticket_id == t.id)
        .where(t.assigned_to_id.is_not(None))
        .group_by(t.assigned_to_id)
    )
    low, high = clock.day_range(start, end)
    if low is not None:
        per_agent = per_agent.where(t.created_at >= _inline(low))
    if high is not None:
        per_agent = per_agent.where(t.created_at < _inline(high))
    figures = per_agent.subquery()
    return (
        select(User.id.label("agent_id"), User.full_name.label("name"), figures)
        .outerjoin(figures, figures.c.agent_id == User.id)
        .where(User.role.in_(STAFF_ROLES))
        .order_by(User.id)
    )


def overview_query(dialect: str, *, start: date | None, end: date | None) -> Select[Any]:
    """The overview's single aggregate query (the benchmark also runs it bare)."""
    t = Ticket
    columns: dict[str, ColumnElement[Any]] = {"total": func.count()}
    columns |= {f"status_{s.value}": _count(t.status == s) for s in Status}
    columns |= {f"priority_{p.value}": _count(t.priority == p) for p in Priority}
    columns |= {f"category_{c.value}": _count(t.category == c) for c in Category}
    columns["avg_resolution"] = func.avg(_hours(dialect, t.created_at, t.resolved_at))
    columns["avg_first_response"] = func.avg(_hours(dialect, t.created_at, t.first_response_at))
    columns["first_due"] = func.count(t.first_response_due_at)
    columns["first_met"] = _count(t.first_response_at <= t.first_response_due_at)
    columns["resolution_due"] = func.count(t.resolution_due_at)
    columns["resolution_met"] = _count(t.resolved_at <= t.resolution_due_at)
    query = select(*(c.label(name) for name, c in columns.items()))
    low, high = clock.day_range(start, end)
    if low is not None:
        query = query.where(t.created_at >= _inline(low))
    if high is not None:
        query = query.where(t.created_at < _inline(high))
    return query


async def dashboard(session: AsyncSession, *, now: datetime) -> dict[str, int]:
    """The counts an admin home page shows, in one query."""
    t = Ticket
    today = clock.day_start(now.date())
    active = not_(t.status.in_(CLOSED_STATES))
    columns: dict[str, ColumnElement[Any]] = {
        f"{s.value}_tickets": _count(t.status == s) for s in Status
    }
    columns["unassigned_tickets"] = _count(and_(active, t.assigned_to_id.is_(None)))
    columns["sla_breached_tickets"] = _count(and_(active, breach.breached_condition(now)))
    columns["created_today"] = _count(t.created_at >= today)
    columns["resolved_today"] = _count(t.resolved_at >= today)
    row = (await session.execute(select(*(c.label(n) for n, c in columns.items())))).mappings()
    return {name: value or 0 for name, value in row.one().items()}


def _day(dialect: str, column: Any) -> ColumnElement[Any]:
    """The UTC day of a moment, on either backend."""
    if dialect == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


async def daily(session: AsyncSession, *, start: date, end: date) -> list[dict[str, Any]]:
    """Per UTC day in [start, end]: tickets created, tickets resolved (by each ticket's latest
    resolution), and the backlog at the day's end (created by then and not resolved by then).

    Three aggregate queries, each reading an index: created per day, resolved per day, and the
    backlog before start."""
    dialect = session.get_bind().dialect.name
    low, high = clock.day_range(start, end)
    assert low is not None and high is not None
    t = Ticket
    created_day, resolved_day = _day(dialect, t.created_at), _day(dialect, t.resolved_at)
    created = select(created_day.label("day"), func.count().label("n")).where(
        t.created_at >= _inline(low), t.created_at < _inline(high)
    )
    resolved = select(resolved_day.label("day"), func.count().label("n")).where(
        t.resolved_at >= _inline(low), t.resolved_at < _inline(high)
    )
    # Every ticket resolved before the range was created before it: two index-only counts.
    opened = select(func.count()).where(t.created_at < _inline(low)).scalar_subquery()
    closed = select(func.count()).where(t.resolved_at < _inline(low)).scalar_subquery()
    before = select(opened - closed)
    made = await _per_day(session, created.group_by(created_day))
    solved = await _per_day(session, resolved.group_by(resolved_day))
    backlog = (await session.execute(before)).scalar_one() or 0
    rows = []
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        backlog += made.get(day, 0) - solved.get(day, 0)
        rows.append(
            {
                "day": day,
                "created": made.get(day, 0),
                "resolved": solved.get(day, 0),
                "backlog": backlog,
            }
        )
    return rows


async def _per_day(session: AsyncSession, query: Select[Any]) -> dict[date, int]:
    """SQLite answers days as text, PostgreSQL as dates."""
    return {date.fromisoformat(str(row.day)): row.n for row in await session.execute(query)}
