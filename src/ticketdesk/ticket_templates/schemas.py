from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from ticketdesk.tickets.models import Category, Priority
from ticketdesk.tickets.schemas import CategoryIn, Description, PriorityIn, Subject, Tags
from ticketdesk.validation import Strict, no_nul, text

Name = Annotated[str, text(200), AfterValidator(no_nul)]
NOT_NULL = ("name", "tags", "custom_fields")


class TemplateIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Password reset",
                    "category": "account",
                    "priority": "medium",
                    "subject": "Password reset",
                    "tags": ["password"],
                }
            ]
        }
    )

    name: Name
    category: CategoryIn | None = None
    priority: PriorityIn | None = None
    subject: Subject | None = None
    description: Description | None = None
    tags: Tags = Field(default_factory=list)
    custom_fields: dict[str, Any] = Field(default_factory=dict)


class TemplateUpdate(Strict):
    """Send a field to change it. `category`, `priority`, `subject` and `description` may be
    null: the template then leaves that field to the request."""

    null_refused: ClassVar[frozenset[str]] = frozenset(NOT_NULL)

    name: Name | None = None
    category: CategoryIn | None = None
    priority: PriorityIn | None = None
    subject: Subject | None = None
    description: Description | None = None
    tags: Tags | None = None
    custom_fields: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _required_not_null(self) -> "TemplateUpdate":
        nulls = [f for f in NOT_NULL if f in self.model_fields_set and getattr(self, f) is None]
        if nulls:
            raise ValueError(f"{', '.join(nulls)} may not be null")
        return self


class TemplateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    category: Category | None
    priority: Priority | None
    subject: str | None
    description: str | None
    tags: list[str]
    custom_fields: dict[str, Any]
