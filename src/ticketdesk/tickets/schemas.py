import functools
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError
from sqlalchemy.engine import Row

from ticketdesk.custom_fields.service import FieldSet
from ticketdesk.sla import breach
from ticketdesk.tickets.models import Category, Priority, Status, Ticket, split_tags
from ticketdesk.validation import (
    MAX_ID,
    BodyId,
    Id,
    IsoDate,
    NoNulls,
    Strict,
    lower_enum,
    no_nul,
    text,
)

MAX_TAGS = 20
MAX_TAG_LENGTH = 50


def normalize_tags(value: object) -> list[str]:
    """Trimmed, lower-case, de-duplicated, order kept; from "a,b" or ["a", "b"]."""
    if value is None:
        return []
    if isinstance(value, str):
        parts = value.split(",")
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        parts = [p for v in value for p in v.split(",")]
    else:
        raise ValueError("tags must be a comma-separated string or a list of strings")
    tags = list(dict.fromkeys(no_nul(p.strip().lower()) for p in parts if p.strip()))
    if len(tags) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags")
    if any(len(tag) > MAX_TAG_LENGTH for tag in tags):
        raise ValueError(f"a tag may have at most {MAX_TAG_LENGTH} characters")
    return tags


Subject = Annotated[str, text(200), AfterValidator(no_nul)]
Description = Annotated[str, text(20_000), AfterValidator(no_nul)]
Tags = Annotated[list[str], BeforeValidator(normalize_tags)]
PriorityIn = Annotated[Priority, BeforeValidator(lower_enum)]
CategoryIn = Annotated[Category, BeforeValidator(lower_enum)]
StatusIn = Annotated[Status, BeforeValidator(lower_enum)]


class TicketCreate(NoNulls):
    """`subject` and `description` are required unless a template (`template_id`) gives them."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "subject": "Unable to generate report",
                    "description": "When I click generate report, I get an error.",
                    "priority": "high",
                    "category": "technical_support",
                    "tags": ["report", "error"],
                }
            ]
        }
    )

    subject: Subject | None = Field(
        default=None,
        description="1 to 200 characters, trimmed.",
        examples=["Unable to generate report"],
    )
    description: Description | None = Field(
        default=None,
        description="1 to 20,000 characters, trimmed.",
        examples=["When I click generate report, I get an error."],
    )
    priority: PriorityIn = Field(
        default=Priority.MEDIUM, description="In any case; returned lower-case."
    )
    category: CategoryIn = Field(default=Category.GENERAL_INQUIRY)
    tags: Tags = Field(
        default_factory=list,
        description="A list, or one comma-separated string; stored trimmed, lower-case and "
        "without duplicates, in order.",
        examples=[["report", "error"]],
    )
    user_id: BodyId | None = Field(
        default=None, description="Staff only: file the ticket on behalf of this customer."
    )
    is_internal: bool | None = Field(
        default=None, description="Staff only: a ticket customers never see."
    )
    custom_fields: dict[str, Any] = Field(
        default_factory=dict,
        description="Values of custom fields by key (see GET /api/v1/custom-fields).",
    )
    template_id: BodyId | None = Field(
        default=None, description="Start from this ticket template's fields."
    )


# Fields people send to PATCH that have their own endpoints.
ELSEWHERE = {
    "status": "the status changes through POST /api/v1/tickets/{ref}/status",
    "assigned_to_id": "the assignee changes through POST /api/v1/tickets/{ref}/assign",
}


class TicketUpdate(NoNulls):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"priority": "urgent", "tags": ["report", "outage"]}]}
    )

    subject: Subject | None = None
    description: Description | None = None
    tags: Tags | None = None
    priority: PriorityIn | None = None
    category: CategoryIn | None = None
    # Merged into the ticket's values: keys left out stay, a null removes a value.
    custom_fields: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _point_elsewhere(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for field, message in ELSEWHERE.items():
                if field in data:
                    raise PydanticCustomError("extra_forbidden", message)
        return data


class TicketRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_number: str
    user_id: int
    assigned_to_id: int | None
    subject: str
    description: str
    status: Status
    priority: Priority
    category: Category
    tags: list[str]
    is_internal: bool
    custom_fields: dict[str, Any]
    creator_name: str
    creator_email: str
    assigned_to_name: str | None
    assigned_to_email: str | None
    comments_count: int
    attachments_count: int
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    sla_first_response_breached: bool
    sla_resolution_breached: bool
    organization_id: int | None
    # A merged ticket is closed and points at the ticket it went into; a customer who may
    # not see that ticket sees `is_merged` but neither its id nor its number.
    is_merged: bool
    merged_into_id: int | None
    merged_into_number: str | None


def _split_statuses(value: object) -> object:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [part.strip().lower() for item in items for part in str(item).split(",") if part.strip()]


def _assignee_filter(value: object) -> object:
    if value is None:
        return None
    text = str(value).strip().lower()
    if text in ("me", "none"):
        return text
    if text.isdigit() and 1 <= int(text) <= MAX_ID:
        return int(text)
    raise ValueError("must be a user id, 'me' or 'none'")


TagFilter = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, max_length=MAX_TAG_LENGTH),
    AfterValidator(no_nul),
]
SearchText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(no_nul)
]
SortKey = Literal[
    "created_at", "-created_at", "updated_at", "-updated_at", "priority", "-priority", "due"
]


class TicketFilters(BaseModel):
    """Query parameters of the ticket lists; all optional and combinable."""

    model_config = ConfigDict(extra="ignore")

    status: Annotated[list[Status], BeforeValidator(_split_statuses)] = Field(default_factory=list)
    priority: PriorityIn | None = None
    category: CategoryIn | None = None
    assigned_to_id: Annotated[
        int | Literal["me", "none"] | None, BeforeValidator(_assignee_filter)
    ] = None
    user_id: Id | None = None
    organization_id: Id | None = None
    # `organization`: only the tickets of the caller's organization (customers).
    scope: Annotated[Literal["organization"], BeforeValidator(lower_enum)] | None = None
    tag: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, to_lower=True, max_length=MAX_TAG_LENGTH),
            AfterValidator(no_nul),
        ]
        | None
    ) = None
    q: (
        Annotated[
            str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(no_nul)
        ]
        | None
    ) = None
    created_from: IsoDate | None = None
    created_to: IsoDate | None = None
    # breached: either SLA is breached; breaching: breached or due within BREACHING_SOON.
    sla: Annotated[Literal["breached", "breaching"], BeforeValidator(lower_enum)] | None = None
    # None: newest first (-created_at), or by relevance when `q` is given.
    sort: Annotated[SortKey, BeforeValidator(lower_enum)] | None = None
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=20, ge=1, le=100)
    # From a `Link: next` header: the page after it, found by key (flat at any depth).
    cursor: Annotated[str, StringConstraints(max_length=500)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _without_custom_field_filters(cls, values: Any) -> Any:
        """`cf.<key>` parameters filter by custom fields; the router reads them on their own
        (custom_fields.service.filter_params), so they are never unknown parameters here."""
        if isinstance(values, dict):
            return {k: v for k, v in values.items() if not str(k).startswith("cf.")}
        return values


# An ORM Ticket with its people loaded, or a row of service.TICKET_VIEW: the same names.
TicketView = Ticket | Row[Any]


def ticket_read(
    ticket: TicketView,
    *,
    staff: bool,
    now: datetime,
    fields: FieldSet | None = None,
    hide_merge_target: bool = False,
) -> TicketRead:
    """The ticket as the viewer may see it: customers count public comments only, and see
    the custom fields marked for them (`fields`: the live definitions; None shows none).

    Built without validation: every value comes from the database, already of its type.
    """
    get = by_name(ticket)
    return TicketRead.model_construct(
        id=get("id"),
        ticket_number=get("ticket_number"),
        user_id=get("user_id"),
        assigned_to_id=get("assigned_to_id"),
        subject=get("subject"),
        description=get("description"),
        status=get("status"),
        priority=get("priority"),
        category=get("category"),
        tags=split_tags(get("tags")),
        is_internal=get("is_internal"),
        custom_fields=fields.present(get("custom_fields"), staff=staff) if fields else {},
        creator_name=get("creator_name"),
        creator_email=get("creator_email"),
        assigned_to_name=get("assigned_to_name"),
        assigned_to_email=get("assigned_to_email"),
        comments_count=get("comments_count") if staff else get("public_comments_count"),
        attachments_count=(get("attachments_count") if staff else get("public_attachments_count")),
        created_at=get("created_at"),
        updated_at=get("updated_at"),
        first_response_at=get("first_response_at"),
        resolved_at=get("resolved_at"),
        closed_at=get("closed_at"),
        first_response_due_at=get("first_response_due_at"),
        resolution_due_at=get("resolution_due_at"),
        sla_first_response_breached=breach.first_response_breached(
            get("first_response_due_at"), get("first_response_at"), now
        ),
        sla_resolution_breached=breach.resolution_breached(
            get("resolution_due_at"), get("resolved_at"), get("sla_paused_at"), now
        ),
        organization_id=get("organization_id"),
        is_merged=get("merged_into_id") is not None,
        merged_into_id=None if hide_merge_target else get("merged_into_id"),
        merged_into_number=None if hide_merge_target else get("merged_into_number"),
    )


def by_name(ticket: TicketView) -> Callable[[str], Any]:
    """The ticket's values by name: a row through its mapping, several times quicker than
    its attributes (this runs for every column of every ticket presented)."""
    if isinstance(ticket, Row):
        return ticket._mapping.__getitem__
    return functools.partial(getattr, ticket)


Note = Annotated[str, text(5_000), AfterValidator(no_nul)]


class StatusChange(NoNulls):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "in_progress", "note": "Looking into it."}]}
    )

    status: StatusIn
    note: Note | None = None
    is_resolution: bool = False


class MergeIn(Strict):
    # The ticket to merge into: its id (a number) or its ticket number.
    into: BodyId | Annotated[str, text(32), AfterValidator(no_nul)]
    note: Note | None = None


class AssignIn(Strict):
    assigned_to_id: BodyId | None
    note: Note | None = None


class HistoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: int
    changed_by_id: int | None
    from_status: Status | None
    to_status: Status | None
    from_priority: Priority | None
    to_priority: Priority | None
    from_assigned_to_id: int | None
    to_assigned_to_id: int | None
    change_note: str | None
    changed_at: datetime


class ActivityRead(BaseModel):
    """One entry of the ticket's timeline. `id` is null for SLA breaches, which are derived."""

    id: int | None
    kind: str
    actor_id: int | None
    details: dict[str, Any]
    created_at: datetime


BulkAction = Literal["assign", "status", "update"]
ACTION_FIELDS: dict[str, frozenset[str]] = {
    "assign": frozenset({"assigned_to_id", "note"}),
    "status": frozenset({"status", "note"}),
    "update": frozenset({"priority", "category", "add_tags", "remove_tags"}),
}
REQUIRED_FIELDS: dict[str, frozenset[str]] = {
    "assign": frozenset({"assigned_to_id"}),
    "status": frozenset({"status"}),
    "update": frozenset(),
}


class BulkIn(Strict):
    null_refused: ClassVar[frozenset[str]] = frozenset(
        {"status", "priority", "category", "add_tags", "remove_tags"}
    )

    ticket_ids: Annotated[list[BodyId], Field(min_length=1, max_length=500)]
    action: Annotated[BulkAction, BeforeValidator(lower_enum)]
    assigned_to_id: BodyId | None = None
    status: StatusIn | None = None
    note: Note | None = None
    priority: PriorityIn | None = None
    category: CategoryIn | None = None
    add_tags: Tags | None = None
    remove_tags: Tags | None = None

    @model_validator(mode="after")
    def _fields_fit_action(self) -> "BulkIn":
        given = self.model_fields_set - {"ticket_ids", "action"}
        extra = given - ACTION_FIELDS[self.action]
        if extra:
            raise ValueError(f"action {self.action!r} does not take {', '.join(sorted(extra))}")
        missing = REQUIRED_FIELDS[self.action] - given
        if missing:
            raise ValueError(f"action {self.action!r} needs {', '.join(sorted(missing))}")
        if self.action == "update" and not given:
            raise ValueError("action 'update' needs at least one field to change")
        nulls = sorted(f for f in given & self.null_refused if getattr(self, f) is None)
        if nulls:
            raise ValueError(f"{', '.join(nulls)} may not be null")
        if len(set(self.ticket_ids)) != len(self.ticket_ids):
            raise ValueError("ticket_ids contains duplicates")
        return self


class BulkResult(BaseModel):
    action: BulkAction
    ticket_ids: list[int]
    changed: int
