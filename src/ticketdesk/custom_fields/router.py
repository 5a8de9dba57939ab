from typing import Annotated

from fastapi import APIRouter, Path, Response

from ticketdesk.auth.dependencies import ApiRoute, CurrentUser, require_scope
from ticketdesk.auth.scopes import Scope
from ticketdesk.custom_fields import service as custom_fields
from ticketdesk.custom_fields.schemas import CustomFieldIn, CustomFieldRead, CustomFieldUpdate
from ticketdesk.db import ReadSession, WriteSession
from ticketdesk.openapi import errors
from ticketdesk.validation import MAX_ID

router = APIRouter(
    route_class=ApiRoute,
    prefix="/custom-fields",
    tags=["custom fields"],
    dependencies=[require_scope(Scope.TICKETS_READ, write=Scope.ADMIN)],
)
FieldId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("", operation_id="listCustomFields", summary="List custom fields")
async def list_fields(session: ReadSession, actor: CurrentUser) -> list[CustomFieldRead]:
    """The fields the caller may see (customers: those marked visible to them), in order."""
    rows = await custom_fields.list_fields(session, actor)
    return [CustomFieldRead.model_validate(row) for row in rows]


@router.post(
    "",
    responses=errors(409),
    operation_id="createCustomField",
    summary="Create a custom field",
    status_code=201,
)
async def create_field(
    session: WriteSession, actor: CurrentUser, data: CustomFieldIn
) -> CustomFieldRead:
    """Adding a field changes no table: values live in the tickets' one JSON column."""
    return CustomFieldRead.model_validate(await custom_fields.create_field(session, actor, data))


@router.patch("/{field_id}", operation_id="updateCustomField", summary="Update a custom field")
async def update_field(
    session: WriteSession, actor: CurrentUser, field_id: FieldId, data: CustomFieldUpdate
) -> CustomFieldRead:
    """`key` and `type` are fixed once created."""
    row = await custom_fields.update_field(session, actor, field_id, data)
    return CustomFieldRead.model_validate(row)


@router.delete(
    "/{field_id}",
    operation_id="deleteCustomField",
    summary="Delete a custom field",
    status_code=204,
)
async def delete_field(session: WriteSession, actor: CurrentUser, field_id: FieldId) -> Response:
    """Stored values stay in the tickets but are no longer shown; the key stays reserved."""
    await custom_fields.delete_field(session, actor, field_id)
    return Response(status_code=204)
