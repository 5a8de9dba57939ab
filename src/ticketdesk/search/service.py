"""Search results with snippets, and the index kept in step with every write."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk import clock
from ticketdesk.auth import policy
from ticketdesk.auth.models import User
from ticketdesk.custom_fields import service as custom_fields
from ticketdesk.search.engines import engine_for, present_snippet
from ticketdesk.search.query import parse
from ticketdesk.search.schemas import SearchFilters, SearchHit
from ticketdesk.tickets import merge
from ticketdesk.tickets import service as tickets
from ticketdesk.tickets.schemas import ticket_read
from ticketdesk.tickets.service import Page

SUBJECT_SNIPPET_CHARS = 200


@dataclass(frozen=True)
class Results:
    page: Page
    hits: list[SearchHit]


async def search_tickets(
    session: AsyncSession, actor: User, filters: SearchFilters, *, count_limit: int
) -> Results:
    """The list's page for `q` (by relevance unless sorted), each ticket with a snippet, in
    the list's representation (custom fields and merge targets as the viewer may see them)."""
    page = await tickets.list_tickets(session, actor, filters, count_limit=count_limit)
    query, staff = parse(filters.q), policy.is_staff(actor)
    snippets: dict[int, str] = {}
    if query.wanted and page.rows:
        engine = engine_for(session)
        ids = [row.id for row in page.rows]
        snippets = await engine.snippets(session, query, ids, staff=staff)
    fields = await custom_fields.field_set_for(session, page.rows)
    hidden = await merge.hidden_targets(session, actor, page.rows)
    now = clock.now()
    hits = []
    for row in page.rows:
        hide = row.merged_into_id is not None and row.merged_into_id in hidden
        read = ticket_read(row, staff=staff, now=now, fields=fields, hide_merge_target=hide)
        # A ticket found by its number alone shows its subject.
        snippet = snippets.get(row.id) or row.subject[:SUBJECT_SNIPPET_CHARS]
        hits.append(SearchHit.model_construct(**read.__dict__, snippet=present_snippet(snippet)))
    return Results(page, hits)
