from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from ticketdesk.custom_fields.models import FieldType
from ticketdesk.validation import NoNulls, Strict, lower_enum, no_nul, text

MAX_OPTIONS = 200
Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Label = Annotated[str, text(200), AfterValidator(no_nul)]
Option = Annotated[str, text(100), AfterValidator(no_nul)]
Position = Annotated[int, Field(ge=0, le=100_000)]
TypeIn = Annotated[FieldType, BeforeValidator(lower_enum)]
CHOICE_TYPES = frozenset({FieldType.SELECT, FieldType.MULTISELECT})


def _unique(options: list[str] | None) -> list[str] | None:
    if options is not None and len(set(options)) != len(options):
        raise ValueError("options must be distinct")
    return options


Options = Annotated[
    list[Option], Field(min_length=1, max_length=MAX_OPTIONS), AfterValidator(_unique)
]


class CustomFieldIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "key": "order_number",
                    "label": "Order number",
                    "type": "text",
                    "visible_to_customer": True,
                    "editable_by_customer": True,
                }
            ]
        }
    )

    key: Key
    label: Label
    type: TypeIn
    options: Options | None = None
    required: bool = False
    visible_to_customer: bool = False
    editable_by_customer: bool = False
    position: Position = 0

    @model_validator(mode="after")
    def _consistent(self) -> "CustomFieldIn":
        if self.type in CHOICE_TYPES and not self.options:
            raise ValueError(f"a {self.type} field needs options")
        if self.type not in CHOICE_TYPES and self.options is not None:
            raise ValueError(f"a {self.type} field takes no options")
        if self.editable_by_customer and not self.visible_to_customer:
            raise ValueError("a field editable by customers must be visible to them")
        return self


class CustomFieldUpdate(NoNulls):
    """`key` and `type` never change: stored values keep their meaning."""

    label: Label | None = None
    options: Options | None = None
    required: bool | None = None
    visible_to_customer: bool | None = None
    editable_by_customer: bool | None = None
    position: Position | None = None


class CustomFieldRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    label: str
    type: FieldType
    options: list[str] | None
    required: bool
    visible_to_customer: bool
    editable_by_customer: bool
    position: int
