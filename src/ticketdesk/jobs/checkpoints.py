"""Named positions kept in the database between runs of periodic work and event followers."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk.jobs.models import Checkpoint


async def read(session: AsyncSession, name: str, *, for_update: bool = False) -> str | None:
    query = select(Checkpoint.value).where(Checkpoint.name == name)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def write(session: AsyncSession, name: str, value: str, *, now: datetime) -> None:
    row = await session.get(Checkpoint, name)
    if row is None:
        session.add(Checkpoint(name=name, value=value, updated_at=now))
    else:
        row.value, row.updated_at = value, now
    await session.flush()
