"""Every domain's tables, imported so that `Base.metadata` is complete."""

from ticketdesk.auth.models import ApiToken, ThrottleHit, User
from ticketdesk.comments.models import TicketComment
from ticketdesk.db import Base
from ticketdesk.events.models import Event
from ticketdesk.jobs.models import Checkpoint, Job
from ticketdesk.sla.models import BusinessHours, SettingsAudit, SLAPolicy
from ticketdesk.tickets.models import (
    Ticket,
    TicketActivity,
    TicketNumberCounter,
    TicketStatusHistory,
    TicketTag,
)
from ticketdesk.webhooks.models import Webhook, WebhookDelivery

__all__ = [
    "ApiToken",
    "Base",
    "BusinessHours",
    "Checkpoint",
    "Event",
    "Job",
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
    "Webhook",
    "WebhookDelivery",
]
