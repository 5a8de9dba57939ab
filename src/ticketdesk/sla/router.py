from fastapi import APIRouter, Request, Response

from ticketdesk import paging
from ticketdesk.auth.dependencies import ApiRoute, CurrentUser, require_scope
from ticketdesk.auth.scopes import Scope
from ticketdesk.db import ReadSession, WriteSession
from ticketdesk.paging import WindowDep
from ticketdesk.sla import service as sla
from ticketdesk.sla.schemas import (
    AuditRead,
    BusinessHoursIn,
    BusinessHoursRead,
    PolicyIn,
    PolicyRead,
)

# API tokens: reading the settings needs tickets:read, changing them admin.
router = APIRouter(
    route_class=ApiRoute,
    prefix="/tickets/sla",
    tags=["sla"],
    dependencies=[require_scope(Scope.TICKETS_READ, write=Scope.ADMIN)],
)


@router.get("/config", operation_id="listSlaPolicies", summary="List SLA policies")
async def list_policies(session: ReadSession, actor: CurrentUser) -> list[PolicyRead]:
    """The four per-priority policies (minutes), most urgent first."""
    return [PolicyRead.model_validate(p) for p in await sla.list_policies(session, actor)]


@router.post("/config", operation_id="setSlaPolicy", summary="Set the SLA policy of a priority")
async def set_policy(session: WriteSession, actor: CurrentUser, data: PolicyIn) -> PolicyRead:
    """Change one priority's targets. Existing tickets keep their due times."""
    return PolicyRead.model_validate(await sla.set_policy(session, actor, data))


@router.get("/business-hours", summary="Get the business hours")
async def get_business_hours(session: ReadSession, actor: CurrentUser) -> BusinessHoursRead:
    """The working week, time zone and holidays that SLA due times are counted in."""
    calendar = await sla.get_business_hours(session, actor)
    return BusinessHoursRead.model_validate(calendar.to_config())


@router.put("/business-hours", summary="Set the business hours")
async def set_business_hours(
    session: WriteSession, actor: CurrentUser, data: BusinessHoursIn
) -> BusinessHoursRead:
    """Time zone, windows per weekday (several allowed; none crossing midnight), holidays."""
    calendar = await sla.set_business_hours(session, actor, data)
    return BusinessHoursRead.model_validate(calendar.to_config())


@router.get("/audit", operation_id="listSlaAudit", summary="List SLA setting changes")
async def audit_trail(
    request: Request,
    response: Response,
    session: ReadSession,
    actor: CurrentUser,
    window: WindowDep,
) -> list[AuditRead]:
    """Every change of a policy or of the business hours, oldest first, `limit` at a time."""
    rows = await sla.audit_trail(session, actor, window=window)
    return [
        AuditRead.model_validate(row)
        for row in paging.page(request, response, window, rows, lambda row: row.id)
    ]
