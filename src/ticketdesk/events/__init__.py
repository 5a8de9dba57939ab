"""The event log: every change of a ticket, appended in the change's own transaction."""

from ticketdesk.events.service import PendingEvent, record, subscribe

__all__ = ["PendingEvent", "record", "subscribe"]
