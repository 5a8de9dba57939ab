"""Every module that registers job handlers, imported before a worker starts."""

import ticketdesk.events.jobs
import ticketdesk.jobs.maintenance
import ticketdesk.sla.jobs
import ticketdesk.tickets.jobs
import ticketdesk.webhooks.jobs  # noqa: F401
