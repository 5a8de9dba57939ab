"""The event log: every change of a ticket, appended in the change's own transaction."""

from ticketdesk.events.service import (
    PendingEvent,
    on_settle,
    pending,
    put_off,
    record,
    subscribe,
    together,
)

__all__ = ["PendingEvent", "on_settle", "pending", "put_off", "record", "subscribe", "together"]
