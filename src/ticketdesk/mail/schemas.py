from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ticketdesk.mail.models import InboundStatus, OutboxStatus


class OutboxRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    id: int
    to: str = Field(validation_alias="to_addr")
    subject: str
    kind: str
    ticket_id: int | None
    status: OutboxStatus
    attempts: int
    last_error: str | None
    message_id: str | None
    created_at: datetime
    sent_at: datetime | None


class InboundRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    id: int
    message_id: str
    from_: str = Field(validation_alias="from_addr", serialization_alias="from")
    subject: str
    source: str
    status: InboundStatus
    ticket_id: int | None
    comment_id: int | None
    error: str | None
    received_at: datetime
    processed_at: datetime | None


class InboundAccepted(BaseModel):
    id: int
    status: InboundStatus
    duplicate: bool


class SuppressionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    email: str
    reason: str
    outbox_id: int | None
    created_at: datetime
