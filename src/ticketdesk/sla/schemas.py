from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ticketdesk.tickets.models import Priority
from ticketdesk.validation import NoNulls, Strict, lower_enum

# A year of minutes is far beyond any real target, and keeps date arithmetic in range.
Minutes = Annotated[int, Field(gt=0, le=525_600, strict=True)]


class PolicyIn(NoNulls):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "priority": "high",
                    "first_response_time": 60,
                    "resolution_time": 480,
                    "applies_business_hours_only": True,
                }
            ]
        }
    )

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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "timezone": "Europe/Berlin",
                    "weekly": {
                        "mon": [["09:00", "17:00"]],
                        "tue": [["09:00", "17:00"]],
                        "wed": [["09:00", "17:00"]],
                        "thu": [["09:00", "17:00"]],
                        "fri": [["09:00", "13:00"]],
                    },
                    "holidays": ["2026-12-25"],
                }
            ]
        }
    )

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
