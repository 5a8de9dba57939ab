"""Request-validation pieces shared by every domain's schemas."""

import re
from datetime import date
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

MAX_ID = 2**31 - 1

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# In JSON bodies an id must be a number: not "5", not true.
BodyId = Annotated[int, Field(ge=1, le=MAX_ID, strict=True)]


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date(value: object) -> object:
    """Only YYYY-MM-DD: a number such as 0 is not a date (pydantic would read it as 1970)."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


def lower_enum(value: object) -> object:
    """Enum values are accepted in any case."""
    return value.lower() if isinstance(value, str) else value


def no_nul(value: str) -> str:
    """NUL characters cannot be stored in PostgreSQL text; lone surrogates (JSON "\ud800")
    are not UTF-8 and cannot be stored anywhere."""
    if "\x00" in value:
        raise ValueError("may not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("may not contain unpaired surrogate characters") from None
    return value


def text(max_length: int) -> StringConstraints:
    """Trimmed, non-empty, at most `max_length` characters."""
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


def _no_nul_within(value: Any) -> Any:
    if isinstance(value, str):
        no_nul(value)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _no_nul_within(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_nul_within(key)
            _no_nul_within(item)
    return value


class Strict(BaseModel):
    """Request bodies reject unknown fields, and text that no database can store (NUL,
    unpaired surrogates) in any field, nested values included."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        return _no_nul_within(value)

    # Optional fields that may be left out but not sent as null: the OpenAPI document does
    # not call them nullable (a NoNulls model refuses null in every field).
    null_refused: ClassVar[frozenset[str]] = frozenset()


class NoNulls(Strict):
    """Optional fields may be left out, but not sent as null."""

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null")
        return value
