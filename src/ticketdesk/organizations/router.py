from typing import Annotated

from fastapi import APIRouter, Path, Response

from ticketdesk.auth.dependencies import ApiRoute, CurrentUser, require_scope
from ticketdesk.auth.scopes import Scope
from ticketdesk.db import ReadSession, WriteSession
from ticketdesk.openapi import errors
from ticketdesk.organizations import service as organizations
from ticketdesk.organizations.schemas import (
    OrganizationCreate,
    OrganizationRead,
    OrganizationUpdate,
)
from ticketdesk.validation import MAX_ID

router = APIRouter(
    route_class=ApiRoute,
    prefix="/organizations",
    tags=["organizations"],
    dependencies=[require_scope(Scope.ADMIN)],
)
OrganizationId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post("", responses=errors(409), summary="Create an organization", status_code=201)
async def create_organization(
    session: WriteSession, actor: CurrentUser, data: OrganizationCreate
) -> OrganizationRead:
    """New customers whose e-mail domain is one of `domains` join it."""
    return await organizations.create_organization(session, actor, data)


@router.get("", summary="List organizations")
async def list_organizations(session: ReadSession, actor: CurrentUser) -> list[OrganizationRead]:
    """Staff see every customer organization with its mail domains and sharing rule."""
    return await organizations.list_organizations(session, actor)


@router.get("/{organization_id}", summary="Get an organization")
async def get_organization(
    session: ReadSession, actor: CurrentUser, organization_id: OrganizationId
) -> OrganizationRead:
    """One organization with its mail domains and sharing rule."""
    return await organizations.get_organization(session, actor, organization_id)


@router.patch("/{organization_id}", responses=errors(409), summary="Update an organization")
async def update_organization(
    session: WriteSession,
    actor: CurrentUser,
    organization_id: OrganizationId,
    data: OrganizationUpdate,
) -> OrganizationRead:
    """`domains`, when given, replaces the whole list."""
    return await organizations.update_organization(session, actor, organization_id, data)


@router.delete("/{organization_id}", summary="Delete an organization", status_code=204)
async def delete_organization(
    session: WriteSession, actor: CurrentUser, organization_id: OrganizationId
) -> Response:
    """Its members leave it and its tickets stop being shared; no ticket or user is deleted."""
    await organizations.delete_organization(session, actor, organization_id)
    return Response(status_code=204)
