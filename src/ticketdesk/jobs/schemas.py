from datetime import datetime

from pydantic import BaseModel, ConfigDict

from ticketdesk.jobs.models import JobStatus


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    status: JobStatus
    attempts: int
    last_error: str | None
    run_at: datetime
    created_at: datetime
    finished_at: datetime | None
