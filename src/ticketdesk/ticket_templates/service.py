"""Ticket templates: pre-filled new-ticket forms, read by everyone, kept by the super_admin."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk import clock
from ticketdesk.auth import policy
from ticketdesk.auth.models import User
from ticketdesk.custom_fields import service as custom_fields
from ticketdesk.errors import Invalid, NotFound
from ticketdesk.ticket_templates.models import TicketTemplate
from ticketdesk.ticket_templates.schemas import TemplateIn, TemplateUpdate
from ticketdesk.tickets.schemas import TicketCreate

FILLED = ("subject", "description", "priority", "category", "tags")


async def list_templates(session: AsyncSession) -> list[TicketTemplate]:
    query = select(TicketTemplate).order_by(TicketTemplate.name, TicketTemplate.id)
    return list(await session.scalars(query))


async def _get(session: AsyncSession, template_id: int) -> TicketTemplate:
    row = await session.get(TicketTemplate, template_id)
    if row is None:
        raise NotFound("ticket template not found")
    return row


async def _checked_fields(session: AsyncSession, values: dict[str, Any]) -> dict[str, Any]:
    """A template's custom field values obey the same rules as a ticket's (as staff sets them)."""
    fields = await custom_fields.field_set(session)
    return fields.apply(values, {}, staff=True)


async def create_template(session: AsyncSession, actor: User, data: TemplateIn) -> TicketTemplate:
    policy.require_super_admin(actor)
    now = clock.now()
    values = data.model_dump()
    values["custom_fields"] = await _checked_fields(session, data.custom_fields)
    row = TicketTemplate(**values, created_at=now, updated_at=now)
    session.add(row)
    await session.flush()
    return row


async def update_template(
    session: AsyncSession, actor: User, template_id: int, data: TemplateUpdate
) -> TicketTemplate:
    policy.require_super_admin(actor)
    row = await _get(session, template_id)
    changes = data.model_dump(exclude_unset=True)
    if "custom_fields" in changes:
        changes["custom_fields"] = await _checked_fields(session, changes["custom_fields"])
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = clock.now()
    await session.flush()
    return row


async def delete_template(session: AsyncSession, actor: User, template_id: int) -> None:
    policy.require_super_admin(actor)
    await session.delete(await _get(session, template_id))
    await session.flush()


async def fill(session: AsyncSession, data: TicketCreate) -> tuple[TicketCreate, dict[str, Any]]:
    """The request with the template's value for every field it leaves out, and the template's
    custom field values (the request's own values of the same keys win)."""
    assert data.template_id is not None
    template = await session.get(TicketTemplate, data.template_id)
    if template is None:
        raise Invalid("no ticket template with this id", field="template_id")
    taken = {
        name: getattr(template, name)
        for name in FILLED
        if name not in data.model_fields_set and getattr(template, name) not in (None, [])
    }
    return data.model_copy(update=taken), dict(template.custom_fields or {})
