"""Keyset cursors for ticket lists: `Link: next` names the last row's sort value and id, and
the next page starts right after it, so any depth costs what the first page costs."""

import base64
import json
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, or_

from ticketdesk.errors import Invalid
from ticketdesk.tickets.models import Priority, Ticket

PRIORITY_RANK = {Priority.LOW: 1, Priority.MEDIUM: 2, Priority.HIGH: 3, Priority.URGENT: 4}


def _value(row: Any, key: str) -> Any:
    if key == "priority":
        return PRIORITY_RANK[row.priority]
    if key == "due":
        due = row.resolution_due_at
        return due.isoformat() if due is not None else None
    value = getattr(row, key)
    return value.isoformat() if isinstance(value, datetime) else value


def encode(sort: str, row: Any) -> str:
    """The cursor after `row` in the order `sort`."""
    data = [sort, _value(row, sort.lstrip("-")), row.id]
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, sort: str) -> tuple[Any, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, value, last_id = json.loads(raw)
        if cursor_sort != sort or type(last_id) is not int:
            raise ValueError
        key = sort.lstrip("-")
        if key in ("created_at", "updated_at") or (key == "due" and value is not None):
            value = datetime.fromisoformat(value)
        elif key == "priority" and type(value) is not int:
            raise ValueError
    except (ValueError, TypeError):
        raise Invalid(
            "not a cursor of this list (take `next` links as they are, with the same sort)",
            field="cursor",
            location="query",
        ) from None
    return value, last_id


def after(cursor: str, sort: str) -> ColumnElement[bool]:
    """Rows strictly after the cursor in the order `sort` (the orders of service._sorted)."""
    value, last_id = _decode(cursor, sort)
    key = sort.lstrip("-")
    if key == "due":
        due = Ticket.resolution_due_at
        if value is None:
            return and_(due.is_(None), Ticket.id > last_id)
        return or_(due.is_(None), due > value, and_(due == value, Ticket.id > last_id))
    column: Any = (
        case(PRIORITY_RANK, value=Ticket.priority) if key == "priority" else getattr(Ticket, key)
    )
    if sort.startswith("-"):
        return or_(column < value, and_(column == value, Ticket.id < last_id))
    return or_(column > value, and_(column == value, Ticket.id > last_id))
