"""Queueing the mail channel's background work from inside a transaction."""

from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk import jobs

SEND = "mail.send"
PROCESS = "mail.process_inbound"


async def schedule_processing(session: AsyncSession, inbound_id: int) -> None:
    """Processing of a stored mail, queued in the transaction that stored it."""
    await jobs.enqueue(session, PROCESS, {"id": inbound_id}, key=f"{PROCESS}:{inbound_id}")


async def schedule_sending(session: AsyncSession) -> None:
    """A run of the sender, queued in the transaction that wrote outbox rows (at its commit:
    the key is shared by every writer of mail, see `jobs.enqueue_at_commit`)."""
    jobs.enqueue_at_commit(session, SEND, key=SEND)
