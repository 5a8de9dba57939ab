"""The durable job queue: background work lives in the application database.

`enqueue` in a request's transaction; `handler` / `periodic` register the work; the worker
(jobs/worker.py) runs it.
"""

from ticketdesk.jobs.queue import enqueue, enqueue_at_commit
from ticketdesk.jobs.registry import JobContext, PermanentFailure, RetryLater, handler, periodic

__all__ = [
    "JobContext",
    "PermanentFailure",
    "RetryLater",
    "enqueue",
    "enqueue_at_commit",
    "handler",
    "periodic",
]
