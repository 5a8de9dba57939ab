from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="Grows with commit order; the feed's position.")
    type: str = Field(examples=["ticket.created"])
    occurred_at: datetime
    ticket_id: int | None
    actor_id: int | None = Field(description="null for the system")
    data: dict[str, Any] = Field(description="What changed; never an internal note's text.")


class EventPage(BaseModel):
    events: list[EventRead]
    next_cursor: str = Field(
        description="Pass as `after` to read on; the same cursor when nothing new arrived."
    )
