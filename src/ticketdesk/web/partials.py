"""What the shared partials show, each read through its domain's service as the API reads it:
the files of a ticket and its comments, custom fields, the satisfaction rating."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from ticketdesk.attachments import service as attachments
from ticketdesk.custom_fields import service as custom_fields
from ticketdesk.custom_fields.models import FieldType
from ticketdesk.custom_fields.service import FieldSet
from ticketdesk.custom_fields.values import FieldDef
from ticketdesk.satisfaction import service as satisfaction
from ticketdesk.satisfaction.schemas import SatisfactionRead
from ticketdesk.tickets.schemas import TicketRead
from ticketdesk.web.pages import Viewer

FIELD_PREFIX = "cf."


async def files(
    session: AsyncSession, viewer: Viewer, ref: str, comment_ids: Sequence[int]
) -> dict[str, Any]:
    """`ticket_files` (sent with the ticket itself) and `files` by comment id; customers never
    get internal ones (the service leaves them out)."""
    on_ticket = await attachments.list_for_ticket(session, viewer.user, ref)
    by_comment = await attachments.by_comment(session, viewer.user, comment_ids)
    return {
        "ticket_files": [row for row in on_ticket if row.comment_id is None],
        "files": by_comment,
    }


async def field_set(session: AsyncSession) -> FieldSet:
    return await custom_fields.field_set(session)


def editable(fields: FieldSet, viewer: Viewer) -> list[FieldDef]:
    """The fields the viewer may set: staff every one, customers those marked for them."""
    shown = fields.visible(staff=viewer.staff)
    return [f for f in shown if viewer.staff or f.editable_by_customer]


def custom_values(form: FormData, defs: Sequence[FieldDef]) -> dict[str, Any]:
    """The `cf.<key>` inputs as the API's `custom_fields` body: an empty input is null (no
    value), a number is a number, and what does not parse goes to the service as typed, so
    its check names the field and the problem."""
    found: dict[str, Any] = {}
    for field in defs:
        name = FIELD_PREFIX + field.key
        if field.type == FieldType.MULTISELECT:
            chosen = [str(v) for v in form.getlist(name) if str(v)]
            found[field.key] = chosen or None
        elif field.type == FieldType.CHECKBOX:
            found[field.key] = form.get(name) is not None
        else:
            found[field.key] = _scalar(field, str(form.get(name) or "").strip())
    return found


def _scalar(field: FieldDef, raw: str) -> Any:
    if not raw:
        return None
    if field.type != FieldType.NUMBER:
        return raw
    try:
        number = float(raw)
    except ValueError:
        return raw
    return int(number) if number.is_integer() and "." not in raw and "e" not in raw else number


def changed(
    incoming: dict[str, Any], current: dict[str, Any], defs: Sequence[FieldDef]
) -> dict[str, Any]:
    """Only the values that differ from the ticket's (an unticked box equals no value)."""
    kinds = {f.key: f.type for f in defs}
    return {
        key: value
        for key, value in incoming.items()
        if value != current.get(key)
        and not (kinds[key] == FieldType.CHECKBOX and not value and not current.get(key))
    }


def typed_back(form: FormData, defs: Sequence[FieldDef]) -> dict[str, Any]:
    """What the person typed, to show again beside an error."""
    return {
        f.key: form.getlist(FIELD_PREFIX + f.key)
        if f.type == FieldType.MULTISELECT
        else form.get(FIELD_PREFIX + f.key)
        for f in defs
    }


async def rating(
    session: AsyncSession, viewer: Viewer, ticket: TicketRead
) -> SatisfactionRead | None:
    """The rating for the ticket's customer and staff; colleagues who share the ticket see none."""
    if not viewer.staff and ticket.user_id != viewer.id:
        return None
    return await satisfaction.read(session, viewer.user, ticket.ticket_number)
