from pydantic import BaseModel

from ticketdesk.satisfaction.schemas import Satisfaction


class StatusCounts(BaseModel):
    open_tickets: int
    in_progress_tickets: int
    waiting_on_customer_tickets: int
    resolved_tickets: int
    closed_tickets: int
    reopened_tickets: int


class Overview(StatusCounts):
    """Times in hours; compliance in percent; null when there is nothing to average."""

    total_tickets: int
    tickets_by_priority: dict[str, int]
    tickets_by_category: dict[str, int]
    average_resolution_time: float | None
    average_first_response_time: float | None
    sla_first_response_compliance: float | None
    sla_resolution_compliance: float | None
    satisfaction: Satisfaction


class AgentStatistics(BaseModel):
    """One staff member's tickets (those assigned to them); hours; percent."""

    agent_id: int
    name: str
    assigned: int
    resolved: int
    average_first_response_time: float | None
    average_resolution_time: float | None
    satisfaction_score: float | None


class Dashboard(StatusCounts):
    unassigned_tickets: int
    sla_breached_tickets: int
    created_today: int
    resolved_today: int
