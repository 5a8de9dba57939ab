"""Every domain's tables, imported so that `Base.metadata` is complete."""

from ticketdesk.assignment_rules.models import AssignmentRule
from ticketdesk.attachments.models import Attachment, Blob
from ticketdesk.auth.models import ApiToken, PasswordResetToken, RateCount, ThrottleHit, User
from ticketdesk.comments.models import TicketComment
from ticketdesk.custom_fields.models import CustomField, CustomFieldsVersion
from ticketdesk.db import Base
from ticketdesk.events.models import Event
from ticketdesk.idempotency.models import IdempotentRequest
from ticketdesk.jobs.models import Checkpoint, Job
from ticketdesk.macros.models import Macro
from ticketdesk.mail.models import (
    InboundEmail,
    MailSuppression,
    NotificationPreference,
    OutboundEmail,
)
from ticketdesk.organizations.models import Organization, OrganizationDomain
from ticketdesk.satisfaction.models import SatisfactionRating
from ticketdesk.sla.models import BusinessHours, SettingsAudit, SLAPolicy
from ticketdesk.ticket_templates.models import TicketTemplate
from ticketdesk.tickets.models import (
    Ticket,
    TicketActivity,
    TicketNumberCounter,
    TicketStatusHistory,
    TicketTag,
)
from ticketdesk.web.models import Presence, WebSession
from ticketdesk.webhooks.models import Webhook, WebhookDelivery

__all__ = [
    "ApiToken",
    "AssignmentRule",
    "Attachment",
    "Base",
    "Blob",
    "BusinessHours",
    "Checkpoint",
    "CustomField",
    "CustomFieldsVersion",
    "Event",
    "IdempotentRequest",
    "InboundEmail",
    "Job",
    "Macro",
    "MailSuppression",
    "NotificationPreference",
    "Organization",
    "OrganizationDomain",
    "OutboundEmail",
    "PasswordResetToken",
    "Presence",
    "RateCount",
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
    "TicketTemplate",
    "User",
    "WebSession",
    "Webhook",
    "WebhookDelivery",
]
