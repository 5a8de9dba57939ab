"""Every domain's tables, imported so that `Base.metadata` is complete."""

from ticketdesk.assignment_rules.models import AssignmentRule
from ticketdesk.auth.models import ThrottleHit, User
from ticketdesk.comments.models import TicketComment
from ticketdesk.custom_fields.models import CustomField
from ticketdesk.db import Base
from ticketdesk.events.models import Event
from ticketdesk.jobs.models import Checkpoint, Job
from ticketdesk.macros.models import Macro
from ticketdesk.sla.models import BusinessHours, SettingsAudit, SLAPolicy
from ticketdesk.ticket_templates.models import TicketTemplate
from ticketdesk.tickets.models import (
    Ticket,
    TicketActivity,
    TicketNumberCounter,
    TicketStatusHistory,
    TicketTag,
)

__all__ = [
    "AssignmentRule",
    "Base",
    "BusinessHours",
    "Checkpoint",
    "CustomField",
    "Event",
    "Job",
    "Macro",
    "SLAPolicy",
    "SettingsAudit",
    "ThrottleHit",
    "Ticket",
    "TicketActivity",
    "TicketComment",
    "TicketNumberCounter",
    "TicketStatusHistory",
    "TicketTag",
    "TicketTemplate",
    "User",
]
