from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ticketdesk.tickets.models import Priority
from ticketdesk.validation import NoNulls, Strict, lower_enum

# A year of minutes is far beyond any real target, and keeps date arithmetic in range.
Minutes = Annotated[int, Field(gt=0, le=525_600, strict=True)]


class PolicyIn(NoNulls):
    priority: Annotated[Priority, BeforeValidator(lower_enum)]
    first_response_time: Minutes
    resolution_time: Minutes
    applies_business_hours_only: bool | None = None  # left out: unchanged


class PolicyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    priority: Priority
    first_response_time: int
    resolution_time: int
    applies_business_hours_only: bool


class BusinessHoursIn(Strict):
    """Checked by the calendar itself (sla/calendar.py), which names the day at fault."""

    timezone: Annotated[str, Field(min_length=1, max_length=64)]
    weekly: dict[str, list[Annotated[list[str], Field(min_length=2, max_length=2)]]]
    holidays: Annotated[list[str], Field(max_length=1000)] = Field(default_factory=list)


class BusinessHoursRead(BaseModel):
    timezone: str
    weekly: dict[str, list[list[str]]]
    holidays: list[str]


class AuditRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    changed_by_id: int | None
    entity: str
    before: dict[str, Any] | None
    after: dict[str, Any]
    changed_at: datetime
