"""Every domain's tables, imported so that `Base.metadata` is complete."""

from ticketdesk.auth.models import RateCount, ThrottleHit, User
from ticketdesk.comments.models import TicketComment
from ticketdesk.db import Base
from ticketdesk.events.models import Event
from ticketdesk.idempotency.models import IdempotentRequest
from ticketdesk.jobs.models import Checkpoint, Job
from ticketdesk.sla.models import BusinessHours, SettingsAudit, SLAPolicy
from ticketdesk.tickets.models import (
    Ticket,
    TicketActivity,
    TicketNumberCounter,
    TicketStatusHistory,
    TicketTag,
)

__all__ = [
    "Base",
    "BusinessHours",
    "Checkpoint",
    "Event",
    "IdempotentRequest",
    "Job",
    "RateCount",
    "SLAPolicy",
    "SettingsAudit",
    "ThrottleHit",
    "Ticket",
    "TicketActivity",
    "TicketComment",
    "TicketNumberCounter",
    "TicketStatusHistory",
    "TicketTag",
    "User",
]
