"""The event log: every change of a ticket, appended in the change's own transaction."""

from ticketdesk.events.service import PendingEvent, pending, record, subscribe

__all__ = ["PendingEvent", "pending", "record", "subscribe"]
