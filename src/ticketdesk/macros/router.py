from typing import Annotated

from fastapi import APIRouter, Path, Response

from ticketdesk.auth.dependencies import ApiRoute, CurrentUser, require_scope
from ticketdesk.auth.scopes import Scope
from ticketdesk.db import ReadSession, WriteSession
from ticketdesk.macros import service as macros
from ticketdesk.macros.schemas import ApplyIn, ApplyResult, MacroIn, MacroRead, MacroUpdate
from ticketdesk.openapi import errors
from ticketdesk.validation import MAX_ID

router = APIRouter(
    route_class=ApiRoute,
    tags=["macros"],
    dependencies=[require_scope(Scope.TICKETS_READ, write=Scope.TICKETS_WRITE)],
)
MacroId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("/macros", summary="List macros")
async def list_macros(session: ReadSession, actor: CurrentUser) -> list[MacroRead]:
    """Staff: their personal macros and the shared ones."""
    return [MacroRead.model_validate(m) for m in await macros.list_macros(session, actor)]


@router.post("/macros", summary="Create a macro", status_code=201)
async def create_macro(session: WriteSession, actor: CurrentUser, data: MacroIn) -> MacroRead:
    """Agents create personal macros; `is_shared: true` is for the super_admin."""
    return MacroRead.model_validate(await macros.create_macro(session, actor, data))


@router.get("/macros/{macro_id}", summary="Get a macro")
async def get_macro(session: ReadSession, actor: CurrentUser, macro_id: MacroId) -> MacroRead:
    """One macro the caller may use: shared ones and the caller's own."""
    return MacroRead.model_validate(await macros.get_macro(session, actor, macro_id))


@router.patch("/macros/{macro_id}", summary="Update a macro")
async def update_macro(
    session: WriteSession, actor: CurrentUser, macro_id: MacroId, data: MacroUpdate
) -> MacroRead:
    """Owners change their personal macros; super admins change shared ones."""
    return MacroRead.model_validate(await macros.update_macro(session, actor, macro_id, data))


@router.delete("/macros/{macro_id}", summary="Delete a macro", status_code=204)
async def delete_macro(session: WriteSession, actor: CurrentUser, macro_id: MacroId) -> Response:
    """Owners delete their personal macros; super admins delete shared ones."""
    await macros.delete_macro(session, actor, macro_id)
    return Response(status_code=204)


@router.post(
    "/tickets/{ref}/macros/{macro_id}/apply",
    responses=errors(409),
    summary="Apply a macro to a ticket",
)
async def apply_macro(
    session: WriteSession, actor: CurrentUser, ref: str, macro_id: MacroId, data: ApplyIn
) -> ApplyResult:
    """All steps or none (409/403/422 as the direct call answers). `preview: true` answers
    what applying would give and writes nothing."""
    return await macros.apply_macro(session, actor, ref, macro_id, preview=data.preview)
