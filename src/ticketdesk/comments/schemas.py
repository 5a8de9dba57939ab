from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel

from ticketdesk.validation import NoNulls, no_nul, text

CommentText = Annotated[str, text(20_000), AfterValidator(no_nul)]


class CommentCreate(NoNulls):
    comment: CommentText
    is_internal: bool = False
    is_resolution: bool = False


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
    # Set on comments of a ticket merged into this one (or, on that ticket, its own).
    merged_from_number: str | None = None
