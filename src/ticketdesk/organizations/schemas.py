import re
from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from ticketdesk.validation import NoNulls, Strict, no_nul, text

DOMAIN_PATTERN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
MAX_DOMAINS = 50


def _domain(value: str) -> str:
    if not DOMAIN_PATTERN.match(value):
        raise ValueError("not a mail domain (such as example.com)")
    return value


def _domains(value: object) -> object:
    """Trimmed, lower-case, without a leading @, duplicates dropped, order kept."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return value
    return list(dict.fromkeys(v.strip().lower().removeprefix("@") for v in value))


Domain = Annotated[str, StringConstraints(min_length=1, max_length=253), AfterValidator(_domain)]
Domains = Annotated[list[Domain], BeforeValidator(_domains), Field(max_length=MAX_DOMAINS)]
Name = Annotated[str, text(200), AfterValidator(no_nul)]


class OrganizationCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": "Example Ltd", "domains": ["example.com"], "shared_tickets": True}
            ]
        }
    )

    name: Name
    domains: Domains = Field(default_factory=list)
    shared_tickets: bool = False


class OrganizationUpdate(NoNulls):
    name: Name | None = None
    domains: Domains | None = None
    shared_tickets: bool | None = None


class OrganizationRead(BaseModel):
    id: int
    name: str
    domains: list[str]
    shared_tickets: bool
    created_at: datetime
    updated_at: datetime
