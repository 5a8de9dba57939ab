from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ticketdesk.comments.schemas import CommentRead
from ticketdesk.tickets.schemas import CategoryIn, PriorityIn, StatusIn, Tags, TicketRead
from ticketdesk.validation import BodyId, NoNulls, Strict, no_nul, text

Name = Annotated[str, text(200), AfterValidator(no_nul)]
Body = Annotated[str, Field(max_length=20_000), AfterValidator(no_nul)]


class MacroActions(Strict):
    """What applying does besides adding the body as a comment. `assign`: "me", a staff id,
    or null (unassign); left out, the assignee stays. `internal`: the body becomes an
    internal note."""

    status: StatusIn | None = None
    priority: PriorityIn | None = None
    category: CategoryIn | None = None
    add_tags: Tags = Field(default_factory=list)
    remove_tags: Tags = Field(default_factory=list)
    assign: Literal["me"] | BodyId | None = None
    internal: bool = False

    def stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)


class MacroIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Ask for logs",
                    "body": "Hello {{ customer.name }}, could you send us the log file?",
                    "actions": {"status": "waiting_on_customer", "add_tags": ["logs"]},
                    "is_shared": False,
                }
            ]
        }
    )

    name: Name
    body: Body = ""
    actions: MacroActions = Field(default_factory=MacroActions)
    is_shared: bool = False


class MacroUpdate(NoNulls):
    name: Name | None = None
    body: Body | None = None
    actions: MacroActions | None = None
    is_shared: bool | None = None


class MacroRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    body: str
    actions: dict[str, Any]
    is_shared: bool
    owner_id: int


class ApplyIn(Strict):
    preview: bool = False


class ApplyResult(BaseModel):
    """The ticket after the macro, and the comment it added (null: the body was empty).
    With `preview`, what applying would give; nothing was written."""

    preview: bool
    ticket: TicketRead
    comment: CommentRead | None
