from typing import Annotated

from fastapi import APIRouter, Path, Response

from ticketdesk.auth import policy
from ticketdesk.auth.dependencies import ApiRoute, CurrentUser, require_scope
from ticketdesk.auth.scopes import Scope
from ticketdesk.custom_fields import service as custom_fields
from ticketdesk.db import ReadSession, WriteSession
from ticketdesk.ticket_templates import service as templates
from ticketdesk.ticket_templates.schemas import TemplateIn, TemplateRead, TemplateUpdate
from ticketdesk.validation import MAX_ID

router = APIRouter(
    route_class=ApiRoute,
    prefix="/ticket-templates",
    tags=["ticket templates"],
    dependencies=[require_scope(Scope.TICKETS_READ, write=Scope.ADMIN)],
)
TemplateId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("", operation_id="listTicketTemplates", summary="List ticket templates")
async def list_templates(session: ReadSession, actor: CurrentUser) -> list[TemplateRead]:
    """Every signed-in user may read them (they pre-fill the new-ticket form); customers see
    only the custom field values of fields shown to them."""
    fields = await custom_fields.field_set(session)
    staff = policy.is_staff(actor)
    return [
        TemplateRead.model_validate(t).model_copy(
            update={"custom_fields": fields.present(t.custom_fields, staff=staff)}
        )
        for t in await templates.list_templates(session)
    ]


@router.post(
    "", operation_id="createTicketTemplate", summary="Create a ticket template", status_code=201
)
async def create_template(
    session: WriteSession, actor: CurrentUser, data: TemplateIn
) -> TemplateRead:
    """Staff save pre-filled fields for new tickets."""
    return TemplateRead.model_validate(await templates.create_template(session, actor, data))


@router.patch(
    "/{template_id}", operation_id="updateTicketTemplate", summary="Update a ticket template"
)
async def update_template(
    session: WriteSession, actor: CurrentUser, template_id: TemplateId, data: TemplateUpdate
) -> TemplateRead:
    """Change a template's name or its pre-filled fields."""
    row = await templates.update_template(session, actor, template_id, data)
    return TemplateRead.model_validate(row)


@router.delete(
    "/{template_id}",
    operation_id="deleteTicketTemplate",
    summary="Delete a ticket template",
    status_code=204,
)
async def delete_template(
    session: WriteSession, actor: CurrentUser, template_id: TemplateId
) -> Response:
    """Tickets made from it are not touched."""
    await templates.delete_template(session, actor, template_id)
    return Response(status_code=204)
