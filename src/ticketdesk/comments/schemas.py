from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ticketdesk.attachments.schemas import AttachmentRead
from ticketdesk.validation import MAX_ID, NoNulls, no_nul, text

CommentText = Annotated[str, text(20_000), AfterValidator(no_nul)]


class CommentCreate(NoNulls):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"comment": "Thanks, that fixed it."}]}
    )

    comment: CommentText = Field(
        description="The comment's text.", examples=["Thanks, that fixed it."]
    )
    is_internal: bool = Field(
        default=False, description="Staff only: an internal note customers never see."
    )
    is_resolution: bool = Field(
        default=False, description="Staff only: this reply resolves the ticket."
    )
    # The newest comment id the writer has seen: a newer public reply by someone else is 409.
    seen_comment_id: Annotated[int, Field(ge=0, le=MAX_ID, strict=True)] | None = None


class CommentUpdate(NoNulls):
    comment: CommentText


class CommentRead(BaseModel):
    id: int
    ticket_id: int
    user_id: int
    author_name: str
    comment: str
    is_internal: bool
    is_resolution: bool
    created_at: datetime
    updated_at: datetime
    attachments: list[AttachmentRead] = Field(default_factory=list)
    # Set on comments of a ticket merged into this one (or, on that ticket, its own).
    merged_from_number: str | None = None
