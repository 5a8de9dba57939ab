import uuid
from datetime import datetime

from pydantic import BaseModel

from ticketdesk.attachments.models import Attachment
from ticketdesk.validation import BodyId, Strict


class AttachmentRead(BaseModel):
    id: uuid.UUID
    ticket_id: int
    comment_id: int | None
    filename: str
    content_type: str
    size: int
    sha256: str
    is_internal: bool
    uploaded_by_id: int
    created_at: datetime
    # Set on the files of a ticket merged into this one (FEATURES.md, merging).
    merged_from_number: str | None = None


def attachment_read(row: Attachment) -> AttachmentRead:
    return AttachmentRead(
        id=row.public_id,
        ticket_id=row.ticket_id,
        comment_id=row.comment_id,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        sha256=row.sha256,
        is_internal=row.is_internal,
        uploaded_by_id=row.uploaded_by_id,
        created_at=row.created_at,
        merged_from_number=row.merged_from_number,
    )


class AttachmentsIn(Strict):
    """The form fields beside the `file` parts of POST /tickets/{id}/attachments."""

    comment_id: BodyId | None = None
    is_internal: bool = False
