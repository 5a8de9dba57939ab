"""Every module that registers job handlers, imported before a worker starts."""

import ticketdesk.assignment_rules.jobs
import ticketdesk.attachments.jobs
import ticketdesk.events.jobs
import ticketdesk.jobs.maintenance
import ticketdesk.mail.jobs
import ticketdesk.search.index  # the search index follows the events in their transaction
import ticketdesk.sla.jobs
import ticketdesk.tickets.jobs
import ticketdesk.webhooks.jobs  # noqa: F401
