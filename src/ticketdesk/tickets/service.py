"""Tickets: create, read, edit, list."""

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    Subquery,
    bindparam,
    case,
    delete,
    false,
    func,
    inspect,
    select,
)
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from ticketdesk import clock, db, events
from ticketdesk.assignment_rules import autoassign
from ticketdesk.auth import policy
from ticketdesk.auth.models import User
from ticketdesk.config import get_settings
from ticketdesk.custom_fields import service as custom_fields
from ticketdesk.errors import Forbidden, Invalid, NotFound
from ticketdesk.mail import outbox
from ticketdesk.search import matching
from ticketdesk.sla import breach
from ticketdesk.sla import service as sla
from ticketdesk.ticket_templates import service as templates
from ticketdesk.tickets import cursor, numbering
from ticketdesk.tickets.history import add_activity, add_history
from ticketdesk.tickets.models import Priority, Status, Ticket, TicketStatusHistory, TicketTag
from ticketdesk.tickets.schemas import TicketCreate, TicketFilters, TicketUpdate
from ticketdesk.validation import MAX_ID

WITH_PEOPLE = (joinedload(Ticket.creator), joinedload(Ticket.assignee))

_creator, _assignee = aliased(User), aliased(User)
# Tickets for reading only, as plain rows (no ORM objects): what lists and reads present.
TICKET_VIEW = (
    select(
        *Ticket.__table__.c,
        _creator.full_name.label("creator_name"),
        _creator.email.label("creator_email"),
        _assignee.full_name.label("assigned_to_name"),
        _assignee.email.label("assigned_to_email"),
        # Lets the presentation reuse the custom-field definitions it keeps (no query).
        custom_fields.VERSION.label("cf_version"),
    )
    .join(_creator, _creator.id == Ticket.user_id)
    .outerjoin(_assignee, _assignee.id == Ticket.assigned_to_id)
)


async def create_ticket(
    session: AsyncSession, actor: User, data: TicketCreate, *, require_custom_fields: bool = True
) -> Ticket:
    """Staff may file on behalf of a customer, or file a staff-only ticket.

    A template fills every field the request leaves out. Required custom fields are enforced
    unless `require_custom_fields` is off (channels that cannot ask for them, such as mail).
    The first matching auto-assignment rule assigns it in this same transaction.
    """
    staff = policy.is_staff(actor)
    if not staff and data.model_fields_set & {"user_id", "is_internal"}:
        raise Forbidden("only support staff may set user_id or is_internal")
    preset: dict[str, Any] = {}
    if data.template_id is not None:
        data, preset = await templates.fill(session, data)
    for name in ("subject", "description"):
        if getattr(data, name) is None:
            raise Invalid("Field required", field=name)
    assert data.subject is not None and data.description is not None
    fields = await custom_fields.field_set(session)
    values = fields.apply(preset, {}, staff=True)
    values = fields.apply(data.custom_fields, values, staff=staff, creating=require_custom_fields)
    owner = actor if data.user_id is None else await _owner(session, data.user_id)
    now = clock.now()
    ticket = Ticket(
        creator=owner,
        assignee=None,
        subject=data.subject,
        description=data.description,
        status=Status.OPEN,
        priority=data.priority,
        category=data.category,
        tags=",".join(data.tags),
        is_internal=bool(data.is_internal),
        custom_fields=values,
        comments_count=0,
        public_comments_count=0,
        attachments_count=0,
        public_attachments_count=0,
        sla_paused_seconds=0,
        sla_paused_business_seconds=0,
        created_at=now,
        updated_at=now,
        organization_id=owner.organization_id,
    )
    await sla.set_due_times(session, ticket)
    # Written with a placeholder: the day's counter row stays locked from taking the number
    # to the commit, so the number is taken last (`_take_number`), after the subscribers and
    # auto-assignment, which need the ticket's id but not its number.
    ticket.ticket_number = numbering.placeholder()
    session.add(ticket)
    await session.flush()
    _add_tag_rows(session, ticket, data.tags)
    add_activity(session, ticket, actor, "created", now=now)
    # The new ticket and its auto-assignment are one change for the event log's subscribers.
    async with events.together(session):
        await events.record(
            session,
            "ticket.created",
            ticket=ticket,
            actor=actor,
            data={
                "ticket_number": ticket.ticket_number,
                "subject": ticket.subject,
                "status": ticket.status,
                "priority": ticket.priority,
                "category": ticket.category,
                "user_id": ticket.user_id,
                "custom_fields": ticket.custom_fields,
            },
            now=now,
        )
        hold = await autoassign.assign_by_rules(session, ticket, now=now, defer_hold=True)
    postgresql = session.get_bind().dialect.name == "postgresql"
    # The ticket's own changes since it was written (its auto-assignment) and its history rows
    # go with its number.
    changes = _unwritten_changes(ticket) if postgresql else {}
    history = _unwritten_history(session, ticket) if postgresql else []
    # Every other row is written before the counter row is locked: what remains between taking
    # the number and the commit is the number itself and the event rows.
    await session.flush()
    await _take_number(session, ticket, now, hold, changes, history)
    return ticket


def _unwritten_changes(ticket: Ticket) -> dict[str, Any]:
    """The ticket's changed columns, taken out of the ORM's next flush: the statement that
    numbers the ticket writes them (each UPDATE of a ticket is a new row version and a new
    entry in every one of its indexes)."""
    state = inspect(ticket)
    changes = {}
    for attribute in state.mapper.column_attrs:
        added = state.attrs[attribute.key].history.added
        if added:
            changes[attribute.columns[0].name] = added[0]
            set_committed_value(ticket, attribute.key, added[0])
    for relationship in state.mapper.relationships:
        added = state.attrs[relationship.key].history.added
        if added:
            set_committed_value(ticket, relationship.key, added[0])
    return changes


def _unwritten_history(session: AsyncSession, ticket: Ticket) -> list[dict[str, Any]]:
    """The ticket's history rows not written yet (its auto-assignment's), taken out of the
    session as column values: the statement that numbers the ticket writes them, which saves
    their INSERT's round trip."""
    pending = [
        row
        for row in session.new
        if isinstance(row, TicketStatusHistory) and row.ticket_id == ticket.id
    ]
    columns = [c.key for c in inspect(TicketStatusHistory).column_attrs if c.key != "id"]
    values = [{key: getattr(row, key) for key in columns} for row in pending]
    for row in pending:
        session.expunge(row)
    return values


async def _take_number(
    session: AsyncSession,
    ticket: Ticket,
    now: datetime,
    hold: int | None,
    changes: dict[str, Any],
    history: list[dict[str, Any]],
) -> None:
    """The day's next number replaces the placeholder wherever this transaction wrote it: the
    ticket (written already; `changes`: columns changed since, PostgreSQL), its pending events
    and the mail queued about it. `hold`: the auto-assignment hold the ticket's assignment
    replaces (PostgreSQL), deleted in the same statement; `history`: the ticket's history rows,
    written by it (PostgreSQL)."""
    placeholder = ticket.ticket_number
    if session.get_bind().dialect.name == "postgresql":
        # One statement: from here to the commit every create waits, one event-loop turn per
        # round trip of the one ahead.
        number = await numbering.number_written_ticket(
            session,
            ticket.id,
            placeholder,
            now.date(),
            hold=hold,
            changes=changes,
            history=history,
        )
        set_committed_value(ticket, "ticket_number", number)
    else:
        assert hold is None, "auto-assignment holds exist on PostgreSQL only"
        ticket.ticket_number = await numbering.next_number(session, now.date())
        await outbox.replace_text(session, ticket.id, placeholder, ticket.ticket_number)
    for event in events.pending(session):
        if event.ticket is ticket:
            event.data = {
                k: ticket.ticket_number if v == placeholder else v for k, v in event.data.items()
            }


async def _owner(session: AsyncSession, user_id: int) -> User:
    owner = await session.get(User, user_id)
    if owner is None or not owner.is_active:
        raise Invalid("no active user with this id", field="user_id")
    return owner


def _add_tag_rows(session: AsyncSession, ticket: Ticket, tags: list[str]) -> None:
    session.add_all(TicketTag(ticket_id=ticket.id, tag=tag) for tag in tags)


def by_ref(ref: str) -> ColumnElement[bool]:
    """By numeric id or ticket number; anything else names no ticket."""
    name, value = _ref(ref)
    column: InstrumentedAttribute[Any] = getattr(Ticket, name)
    return column == value


def _ref(ref: str) -> tuple[str, int | str]:
    """The column a reference names a ticket by, and its value there."""
    if ref.isascii() and ref.isdigit() and int(ref) <= MAX_ID:
        return "id", int(ref)
    if numbering.NUMBER_PATTERN.fullmatch(ref.upper()):
        return "ticket_number", ref.upper()
    raise NotFound("ticket not found")


async def get_ticket(
    session: AsyncSession,
    actor: User,
    ref: str,
    *,
    for_update: bool = False,
    with_people: bool = True,
) -> Ticket:
    """The ticket to act on; one the actor may not see is not found.

    `with_people` loads the creator and the assignee, which the ticket's representation shows.
    """
    column, value = _ref(ref)
    query = _ticket_query(column, policy.visibility_shape(actor), with_people, for_update)
    ticket = await session.scalar(query, _ref_params(actor, value))
    if ticket is None:
        raise NotFound("ticket not found")
    return ticket


@functools.cache
def _ticket_query(
    column: str, shape: policy.Shape, with_people: bool, for_update: bool
) -> Select[Ticket]:
    """`get_ticket`'s statement, built once for each kind of reference, visibility rule and
    loading: every change of a ticket starts with it."""
    query = select(Ticket).where(*_visible_ref(column, shape))
    if with_people:
        query = query.options(*WITH_PEOPLE)
    if for_update:
        query = query.with_for_update(of=Ticket)
    return query


@functools.cache
def _read_query(column: str, shape: policy.Shape) -> Select[Any]:
    """Built once for each kind of reference and visibility rule, so that its compiled form
    is found without walking the statement again."""
    return TICKET_VIEW.where(*_visible_ref(column, shape))


def _visible_ref(column: str, shape: policy.Shape) -> list[ColumnElement[bool]]:
    """The ticket a reference names (`ref`), if the viewer may see it: the viewer bound
    (`_ref_params`), for statements built once per kind of reference and visibility rule."""
    return [getattr(Ticket, column) == bindparam("ref"), *policy.bound_visibility(shape)]


def _ref_params(actor: User, value: int | str) -> dict[str, Any]:
    return {"ref": value, **policy.viewer_params(actor)}


async def read_ticket(session: AsyncSession, actor: User, ref: str) -> Row[Any]:
    """The ticket with its people's names, for reading only (a row, not an ORM object)."""
    column, value = _ref(ref)
    query = _read_query(column, policy.visibility_shape(actor))
    row = (await db.execute(session, query, _ref_params(actor, value), built_once=True)).first()
    if row is None:
        raise NotFound("ticket not found")
    return row


async def visible_ids(session: AsyncSession, actor: User, ids: set[int]) -> set[int]:
    """Which of these tickets the actor may see (for followers of the event log)."""
    if not ids:
        return set()
    if policy.is_staff(actor):
        return set(ids)
    query = policy.visible_tickets(actor).with_only_columns(Ticket.id).where(Ticket.id.in_(ids))
    return set(await session.scalars(query))


async def staff_ticket(session: AsyncSession, actor: User, ref: str) -> Ticket:
    """A ticket for a staff-only view: 404 if the actor cannot see it, 403 if not staff."""
    ticket = await get_ticket(session, actor, ref, with_people=False)
    policy.require_staff(actor)
    return ticket


async def update_ticket(session: AsyncSession, actor: User, ref: str, data: TicketUpdate) -> Ticket:
    """Customers edit subject, description and tags of their own open ticket; staff anything."""
    ticket = await get_ticket(session, actor, ref, for_update=True)
    changes = data.model_dump(exclude_unset=True)
    if not policy.can_edit_fields(actor, ticket, set(changes)):
        raise Forbidden("not allowed to edit these fields of this ticket")
    if "custom_fields" in changes:
        fields = await custom_fields.field_set(session)
        changes["custom_fields"] = fields.apply(
            changes["custom_fields"], ticket.custom_fields or {}, staff=policy.is_staff(actor)
        )
    await apply_changes(session, actor, ticket, changes, now=clock.now())
    await session.flush()
    return ticket


async def apply_changes(
    session: AsyncSession, actor: User, ticket: Ticket, changes: dict[str, Any], *, now: datetime
) -> bool:
    """Applies field edits; each real change is recorded in the activity trail, and all of
    them in one `ticket.updated` event."""
    changed: dict[str, list[Any]] = {}
    for field, value in changes.items():
        old = ticket.tag_list if field == "tags" else getattr(ticket, field)
        if old == value:
            continue
        changed[field] = [old, value]
        await _apply_field(session, actor, ticket, field, value, now=now)
        add_activity(
            session, ticket, actor, "field_changed", now=now, field=field, old=old, new=value
        )
    if changed:
        ticket.updated_at = now
        await events.record(
            session,
            "ticket.updated",
            ticket=ticket,
            actor=actor,
            data={"changes": changed},
            now=now,
        )
    return bool(changed)


async def _apply_field(
    session: AsyncSession, actor: User, ticket: Ticket, field: str, value: object, *, now: datetime
) -> None:
    if field == "tags":
        assert isinstance(value, list)
        await _replace_tags(session, ticket, value)
    elif field == "priority":
        assert isinstance(value, Priority)
        add_history(session, ticket, actor, now=now, priority=(ticket.priority, value))
        ticket.priority = value
        await sla.set_due_times(session, ticket)
    else:
        setattr(ticket, field, value)


async def _replace_tags(session: AsyncSession, ticket: Ticket, tags: list[str]) -> None:
    """Only the tag rows that change are touched (a bulk add is inserts alone)."""
    old = set(ticket.tag_list)
    removed = old - set(tags)
    if removed:
        await session.execute(
            delete(TicketTag).where(TicketTag.ticket_id == ticket.id, TicketTag.tag.in_(removed))
        )
    _add_tag_rows(session, ticket, [tag for tag in tags if tag not in old])
    ticket.tags = ",".join(tags)


# `sla=breaching`: breached, or due within this.
BREACHING_SOON = timedelta(hours=1)

# Past any real page, and within what a database offset can hold.
MAX_OFFSET = 2**62


@dataclass(frozen=True)
class Page:
    rows: list[Row[Any]]
    total: int
    exact: bool  # False: more than `total` tickets match; counting stopped there


async def list_tickets(
    session: AsyncSession,
    actor: User,
    filters: TicketFilters,
    *,
    mine: bool = False,
    count_limit: int = 0,
    custom: Mapping[str, str] | None = None,
) -> Page:
    """One page of the tickets the actor may see, and how many there are in all.

    Counting stops after `count_limit` matching tickets (0: never), so that the cost of a
    page stays flat however many tickets match. `custom` filters by custom field values
    ({key: value as written in the query string}); with them, counting stops at
    `search_count_limit` at the latest, as for a text search.
    """
    conditions = _conditions(actor, filters, now=clock.now())
    sort = filters.sort or DEFAULT_SORT
    params = {"page_size": filters.page_size, "offset": 0}
    plain = not conditions and not custom and not filters.q and filters.cursor is None
    if plain:
        # Unfiltered: the statements depend on the viewer only through bound parameters.
        count, page = _plain_list(policy.visibility_shape(actor), mine, sort, bool(count_limit))
        params.update(policy.viewer_params(actor))
    else:
        if mine:
            conditions.append(Ticket.user_id == actor.id)
        if custom:
            conditions += custom_fields.filter_conditions(
                await custom_fields.field_set(session),
                custom,
                staff=policy.is_staff(actor),
                dialect=session.get_bind().dialect.name,
            )
            # Counted like a text search: a field's matches are found through its own index,
            # so counting them reads their rows, where the list views count from an index
            # alone.
            search_limit = get_settings().search_count_limit
            count_limit = min(count_limit or search_limit, search_limit)
        conditions += policy.ticket_visibility(actor)
        found = matching.match(session, actor, filters.q) if filters.q else None
        if found is not None:
            conditions += found.conditions
        if found is not None and found.hits is not None:
            return await _search_page(session, filters, conditions, found.hits, count_limit)
        base = select(Ticket.id).where(*conditions)
        count = _count_query(base, limited=bool(count_limit))
        if filters.cursor is not None:
            base = base.where(cursor.after(filters.cursor, sort))
        page = _page_query(base, sort, count)
    params["count_limit"] = count_limit + 1
    if filters.cursor is None:
        params["offset"] = (filters.page - 1) * filters.page_size
    rows: list[Row[Any]] = []
    if params["offset"] <= MAX_OFFSET:
        rows = list(await db.execute(session, page, params, built_once=plain))
    # The count comes with the page's rows; only an empty page asks for it on its own.
    counted = (
        rows[0].total
        if rows
        else (await db.execute(session, count, params, built_once=plain)).scalar()
    )
    total, exact = _counted(counted, count_limit)
    return Page(rows, total, exact)


@functools.cache
def _plain_list(
    shape: policy.Shape, mine: bool, sort: str, limited: bool
) -> tuple[Select[Any], Select[Any]]:
    """The count and the page of an unfiltered list, built once for each form they take, so
    that their compiled forms are found without walking them again."""
    conditions = [Ticket.user_id == bindparam("viewer_id")] if mine else []
    base = select(Ticket.id).where(*conditions, *policy.bound_visibility(shape))
    count = _count_query(base, limited=limited)
    return count, _page_query(base, sort, count)


def _page_query(base: Select[Any], sort: str, count: Select[Any]) -> Select[Any]:
    """Deferred join: the page's ids come from an index-only scan, deep pages included; only
    those rows are then read in full, with their people, each with the `total` that `count`
    gives (one round trip for both). Bound: `page_size`, `offset`."""
    page_ids = (
        _sorted(base, sort)
        .limit(bindparam("page_size", type_=Integer))
        # Up to MAX_OFFSET: a 64-bit parameter.
        .offset(bindparam("offset", type_=BigInteger))
    )
    total = count.correlate(None).scalar_subquery().label("total")
    return _sorted(TICKET_VIEW.add_columns(total).where(Ticket.id.in_(page_ids)), sort)


async def _search_page(
    session: AsyncSession,
    filters: TicketFilters,
    conditions: list[ColumnElement[bool]],
    hits: Subquery,
    count_limit: int,
) -> Page:
    """Tickets whose text matches: by relevance unless a sort is given.

    Relevance orders the newest `search_rank_window` matches; any older matches follow them,
    newest first. So a word found in half a million tickets costs what a rare one does: one
    read of the newest matches gives the count (up to the limit) and the ranks together.
    Without other conditions or a sort (staff, no filters) the tickets table stays out of it.
    """
    if conditions or filters.sort is not None:
        base = select(Ticket.id).join(hits, hits.c.ticket_id == Ticket.id).where(*conditions)
    else:
        base = select(hits.c.ticket_id)
    ticket_id = base.selected_columns[0]
    settings = get_settings()
    limit = min(count_limit or settings.search_count_limit, settings.search_count_limit)
    size, offset = filters.page_size, (filters.page - 1) * filters.page_size
    if filters.sort is not None:
        total, exact = await _count(session, base, limit)
        if (exact and offset >= total) or offset > MAX_OFFSET:
            return Page([], total, exact)
        page_ids = _sorted(base, filters.sort).limit(size).offset(offset)
        page = _sorted(TICKET_VIEW.where(Ticket.id.in_(page_ids)), filters.sort)
        return Page(list(await db.execute(session, page)), total, exact)
    window = settings.search_rank_window
    fetch = max(window, limit) + 1
    newest = base.with_only_columns(ticket_id, hits.c.rank).order_by(ticket_id.desc())
    recent = [(row[0], row[1]) for row in await session.execute(newest.limit(fetch))]
    total, exact = min(len(recent), limit), len(recent) <= limit
    if (exact and offset >= total) or offset > MAX_OFFSET:
        return Page([], total, exact)
    ranked = sorted(recent[:window], key=lambda hit: (-hit[1], -hit[0]))
    ordered = [hit[0] for hit in ranked] + [hit[0] for hit in recent[window:]]
    ids = ordered[offset : offset + size]
    if len(ids) < size and len(recent) == fetch:
        older = (
            base.where(ticket_id < recent[-1][0])
            .order_by(ticket_id.desc())
            .limit(size - len(ids))
            .offset(max(0, offset - len(ordered)))
        )
        ids += list(await session.scalars(older))
    position = {ticket: n for n, ticket in enumerate(ids)}
    rows: list[Row[Any]] = list(await db.execute(session, TICKET_VIEW.where(Ticket.id.in_(ids))))
    rows.sort(key=lambda row: position[row.id])
    return Page(rows, total, exact)


async def count_tickets(
    session: AsyncSession, actor: User, filters: TicketFilters, *, count_limit: int = 0
) -> tuple[int, bool]:
    """How many tickets the actor may see match the filters (up to `count_limit`), and whether
    that is all of them."""
    conditions = _conditions(actor, filters, now=clock.now()) + policy.ticket_visibility(actor)
    return await _count(session, select(Ticket.id).where(*conditions), count_limit)


async def count_each(
    session: AsyncSession,
    actor: User,
    filter_sets: Sequence[TicketFilters],
    *,
    count_limit: int,
) -> list[tuple[int, bool]]:
    """`count_tickets` for several filter sets in one round trip (the desk's view counts)."""
    now = clock.now()
    counts = []
    for filters in filter_sets:
        base = policy.visible_tickets(actor).where(*_conditions(actor, filters, now=now))
        matching = base.with_only_columns(Ticket.id).order_by(None).limit(count_limit + 1)
        counts.append(select(func.count()).select_from(matching.subquery()).scalar_subquery())
    row = (await session.execute(select(*counts))).one()
    return [(min(n, count_limit), n <= count_limit) for n in row]


async def _count(session: AsyncSession, base: Select[Any], limit: int) -> tuple[int, bool]:
    """How many tickets `base` selects, up to `limit` (0: no limit), and whether that is all."""
    query = _count_query(base, limited=bool(limit))
    return _counted((await db.execute(session, query, {"count_limit": limit + 1})).scalar(), limit)


def _count_query(base: Select[Any], *, limited: bool) -> Select[Any]:
    """Counts the rows of `base`, with `limited` no more than the bound `count_limit`."""
    selected = base.order_by(None)
    if limited:
        selected = selected.limit(bindparam("count_limit", type_=Integer))
    return select(func.count()).select_from(selected.subquery())


def _counted(counted: int | None, limit: int) -> tuple[int, bool]:
    if limit and (counted or 0) > limit:
        return limit, False
    return counted or 0, True


def _conditions(actor: User, f: TicketFilters, *, now: datetime) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.status:
        # Written into the SQL as literals, so that PostgreSQL can match the partial indexes
        # of unsolved tickets (UNSOLVED_WHERE in models.py) in every plan.
        statuses: BindParameter[Any] = bindparam(
            "statuses", list(f.status), unique=True, expanding=True, literal_execute=True
        )
        conditions.append(Ticket.status.in_(statuses))
    if f.priority:
        conditions.append(Ticket.priority == f.priority)
    if f.category:
        conditions.append(Ticket.category == f.category)
    if f.assigned_to_id == "me":
        conditions.append(Ticket.assigned_to_id == actor.id)
    elif f.assigned_to_id == "none":
        conditions.append(Ticket.assigned_to_id.is_(None))
    elif f.assigned_to_id is not None:
        conditions.append(Ticket.assigned_to_id == f.assigned_to_id)
    if f.user_id is not None:
        conditions.append(Ticket.user_id == f.user_id)
    if f.organization_id is not None:
        conditions.append(Ticket.organization_id == f.organization_id)
    if f.scope == "organization":
        mine = actor.organization_id
        conditions.append(Ticket.organization_id == mine if mine is not None else false())
    if f.tag:
        tagged = select(TicketTag.ticket_id).where(TicketTag.tag == f.tag)
        conditions.append(Ticket.id.in_(tagged))
    start, end = clock.day_range(f.created_from, f.created_to)
    if start is not None:
        conditions.append(Ticket.created_at >= start)
    if end is not None:
        conditions.append(Ticket.created_at < end)
    if f.sla == "breached":
        conditions.append(breach.breached_condition(now))
    elif f.sla == "breaching":
        conditions.append(breach.breaching_condition(now, now + BREACHING_SOON))
    return conditions


DEFAULT_SORT = "-created_at"
PRIORITY_RANK = {Priority.LOW: 1, Priority.MEDIUM: 2, Priority.HIGH: 3, Priority.URGENT: 4}


def _sorted(query: Select[Any], sort: str) -> Select[Any]:
    """Every order ends with the id, so pages never overlap or skip rows."""
    if sort == "due":
        return query.order_by(Ticket.resolution_due_at.asc().nulls_last(), Ticket.id)
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    column = (
        case(PRIORITY_RANK, value=Ticket.priority) if key == "priority" else getattr(Ticket, key)
    )
    if descending:
        return query.order_by(column.desc(), Ticket.id.desc())
    return query.order_by(column.asc(), Ticket.id.asc())
