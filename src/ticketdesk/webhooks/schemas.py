from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from ticketdesk.validation import NoNulls, Strict, no_nul
from ticketdesk.webhooks.models import DeliveryStatus

# Every event type of the log (INTEGRATIONS.md), and "*" for all of them.
EVENT_TYPES = frozenset(
    {
        "ticket.created",
        "ticket.updated",
        "ticket.status_changed",
        "ticket.assigned",
        "ticket.sla_breached",
        "ticket.merged",
        "comment.created",
        "note.created",
        "comment.updated",
        "attachment.added",
        "csat.received",
    }
)
ALL = "*"


def _event_types(value: list[str]) -> list[str]:
    """Known types, lower-cased, each once; "*" alone means every type."""
    chosen = list(dict.fromkeys(v.strip().lower() for v in value))
    unknown = [v for v in chosen if v != ALL and v not in EVENT_TYPES]
    if unknown:
        raise ValueError(
            f"unknown event type(s): {', '.join(unknown)}; known: {', '.join(sorted(EVENT_TYPES))}"
        )
    if ALL in chosen and len(chosen) > 1:
        raise ValueError('"*" already means every event type')
    return chosen


Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
EventTypes = Annotated[
    list[Annotated[str, StringConstraints(max_length=64)]],
    Field(min_length=1, max_length=50),
    AfterValidator(_event_types),
]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class WebhookCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://hooks.example.com/ticketdesk",
                    "event_types": ["ticket.created", "comment.created"],
                    "description": "Copy new tickets to the CRM",
                }
            ]
        }
    )

    url: Annotated[Url, AfterValidator(no_nul)]
    event_types: EventTypes
    description: Annotated[Description, AfterValidator(no_nul)] = ""


class WebhookUpdate(NoNulls):
    url: Annotated[Url, AfterValidator(no_nul)] | None = None
    event_types: EventTypes | None = None
    is_active: bool | None = None
    description: Annotated[Description, AfterValidator(no_nul)] | None = None


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    description: str
    event_types: list[str]
    is_active: bool
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookRead):
    """The only answers that show the secret: creation and rotation."""

    secret: str


class SecretOut(BaseModel):
    secret: str


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event_id: int | None
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
