"""Every domain's tables, imported so that `Base.metadata` is complete."""

from ticketdesk.auth.models import ThrottleHit, User
from ticketdesk.comments.models import TicketComment
from ticketdesk.db import Base
from ticketdesk.events.models import Event
from ticketdesk.jobs.models import Checkpoint, Job
from ticketdesk.organizations.models import Organization, OrganizationDomain
from ticketdesk.satisfaction.models import SatisfactionRating
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
    "Job",
    "Organization",
    "OrganizationDomain",
    "SLAPolicy",
    "SatisfactionRating",
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
