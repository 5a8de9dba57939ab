from fastapi import APIRouter

from ticketdesk import clock
from ticketdesk.auth import policy
from ticketdesk.auth.dependencies import ApiRoute, CurrentUser, require_scope
from ticketdesk.auth.scopes import Scope
from ticketdesk.db import ReadSession
from ticketdesk.errors import Invalid
from ticketdesk.stats import queries
from ticketdesk.stats.schemas import AgentStatistics, Dashboard, Overview
from ticketdesk.validation import IsoDate

# API tokens: figures about tickets are a read of tickets (the role check stays super_admin).
router = APIRouter(
    route_class=ApiRoute, tags=["statistics"], dependencies=[require_scope(Scope.TICKETS_READ)]
)


@router.get(
    "/tickets/statistics/overview",
    operation_id="getStatisticsOverview",
    summary="Get ticket statistics",
)
async def overview(
    session: ReadSession,
    actor: CurrentUser,
    start_date: IsoDate | None = None,
    end_date: IsoDate | None = None,
) -> Overview:
    """Over the tickets created between the two dates (inclusive, UTC; both optional)."""
    policy.require_super_admin(actor)
    if start_date and end_date and end_date < start_date:
        raise Invalid("end_date is before start_date", field="end_date", location="query")
    return Overview(**await queries.overview(session, start=start_date, end=end_date))


@router.get(
    "/tickets/statistics/agents",
    operation_id="getAgentStatistics",
    summary="Get statistics per agent",
)
async def agents(
    session: ReadSession,
    actor: CurrentUser,
    start_date: IsoDate | None = None,
    end_date: IsoDate | None = None,
) -> list[AgentStatistics]:
    """Per staff member, over the tickets created between the two dates assigned to them."""
    policy.require_super_admin(actor)
    if start_date and end_date and end_date < start_date:
        raise Invalid("end_date is before start_date", field="end_date", location="query")
    rows = await queries.agents(session, start=start_date, end=end_date)
    return [AgentStatistics(**row) for row in rows]


@router.get("/dashboard", operation_id="getDashboard", summary="Get the dashboard figures")
async def dashboard(session: ReadSession, actor: CurrentUser) -> Dashboard:
    """Counts for an admin home page: by status, unassigned, SLA breached, today's flow."""
    policy.require_super_admin(actor)
    return Dashboard(**await queries.dashboard(session, now=clock.now()))
