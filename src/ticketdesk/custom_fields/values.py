"""Custom field values: checked against their definition, and read from a list filter. Pure."""

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from ticketdesk.custom_fields.models import FieldType

MAX_TEXT = 1_000
MAX_NUMBER = 1e15  # beyond this a float no longer holds every integer exactly
DATE_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
TRUE_WORDS, FALSE_WORDS = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no"})

JSONValue = str | int | float | bool | list[str]


@dataclass(frozen=True)
class FieldDef:
    key: str
    label: str
    type: FieldType
    options: tuple[str, ...]
    required: bool
    visible_to_customer: bool
    editable_by_customer: bool


def check(field: FieldDef, value: Any) -> JSONValue | None:
    """The value to store, or None for "no value"; ValueError says what is wrong."""
    if value is None:
        return None
    match field.type:
        case FieldType.TEXT:
            return _text(value)
        case FieldType.NUMBER:
            return _number(value)
        case FieldType.DATE:
            return _date(value)
        case FieldType.SELECT:
            return _option(field, value)
        case FieldType.MULTISELECT:
            return _options(field, value)
        case FieldType.CHECKBOX:
            if not isinstance(value, bool):
                raise ValueError("must be true or false")
            return value


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    value = value.strip()
    if len(value) > MAX_TEXT:
        raise ValueError(f"may have at most {MAX_TEXT} characters")
    if "\x00" in value:
        raise ValueError("may not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("may not contain unpaired surrogate characters") from None
    return value or None


def _number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    if not math.isfinite(value) or abs(value) > MAX_NUMBER:
        raise ValueError(f"must be a finite number of at most {MAX_NUMBER:.0e} in size")
    return value


def _date(value: Any) -> str:
    if not isinstance(value, str) or not DATE_PATTERN.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError("must be a date written YYYY-MM-DD") from None


def _option(field: FieldDef, value: Any) -> str:
    if not isinstance(value, str) or value not in field.options:
        raise ValueError(f"must be one of: {', '.join(field.options)}")
    return value


def _options(field: FieldDef, value: Any) -> list[str] | None:
    if not isinstance(value, list):
        raise ValueError(f"must be a list of options out of: {', '.join(field.options)}")
    chosen = [_option(field, item) for item in value]
    return list(dict.fromkeys(chosen)) or None


def filter_value(field: FieldDef, raw: str) -> JSONValue:
    """A `cf.<key>=<raw>` query value as the stored JSON value it must equal (for a
    multiselect: one option the stored list must contain)."""
    raw = raw.strip()
    match field.type:
        case FieldType.NUMBER:
            try:
                number = float(raw)
            except ValueError:
                raise ValueError("must be a number") from None
            result = _number(number)
            return int(result) if float(result).is_integer() else result
        case FieldType.CHECKBOX:
            if raw.lower() in TRUE_WORDS:
                return True
            if raw.lower() in FALSE_WORDS:
                return False
            raise ValueError("must be true or false")
        case FieldType.MULTISELECT:
            return _option(field, raw)
        case _:
            checked = check(field, raw)
            if checked is None:
                raise ValueError("may not be empty")
            return checked
