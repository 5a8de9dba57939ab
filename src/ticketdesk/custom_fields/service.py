"""Custom fields: definitions, the values tickets carry, and the `cf.<key>` list filter."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, cast, exists, func, literal, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk import clock, db
from ticketdesk.auth import policy
from ticketdesk.auth.models import User
from ticketdesk.custom_fields import values
from ticketdesk.custom_fields.models import CustomField, CustomFieldsVersion, FieldType
from ticketdesk.custom_fields.schemas import CustomFieldIn, CustomFieldUpdate
from ticketdesk.custom_fields.values import FieldDef
from ticketdesk.errors import Conflict, Forbidden, Invalid, NotFound
from ticketdesk.tickets.models import Ticket

FILTER_PREFIX = "cf."


@dataclass(frozen=True)
class FieldSet:
    """The live definitions (deleted ones left out), in display order."""

    fields: Mapping[str, FieldDef]

    def visible(self, *, staff: bool) -> list[FieldDef]:
        return [f for f in self.fields.values() if staff or f.visible_to_customer]

    def present(self, stored: Mapping[str, Any] | None, *, staff: bool) -> dict[str, Any]:
        """The values the viewer may see: values of deleted fields never show."""
        stored = stored or {}
        return {f.key: stored[f.key] for f in self.visible(staff=staff) if f.key in stored}

    def apply(
        self,
        incoming: Mapping[str, Any],
        current: Mapping[str, Any],
        *,
        staff: bool,
        creating: bool = False,
    ) -> dict[str, Any]:
        """`current` with `incoming` merged in (null removes a value), checked field by field;
        on create, every required field the writer may set must have a value."""
        result = dict(current)
        for key, raw in incoming.items():
            field = self._writable(key, staff=staff)
            try:
                value = values.check(field, raw)
            except ValueError as error:
                raise Invalid(f"{field.label}: {error}", field=f"custom_fields.{key}") from None
            if value is None:
                result.pop(key, None)
            else:
                result[key] = value
        if creating:
            for field in self.fields.values():
                settable = staff or field.editable_by_customer
                if field.required and settable and field.key not in result:
                    raise Invalid(f"{field.label} is required", field=f"custom_fields.{field.key}")
        return result

    def _writable(self, key: str, *, staff: bool) -> FieldDef:
        field = self.fields.get(key)
        if field is None or not (staff or field.visible_to_customer):
            raise Invalid("no such custom field", field=f"custom_fields.{key}")
        if not staff and not field.editable_by_customer:
            raise Forbidden(f"customers may not set the custom field {key!r}")
        return field


def _definition(row: Any) -> FieldDef:
    """From a CustomField or a row of DEFINITIONS."""
    return FieldDef(
        key=row.key,
        label=row.label,
        type=row.type,
        options=tuple(row.options or ()),
        required=row.required,
        visible_to_customer=row.visible_to_customer,
        editable_by_customer=row.editable_by_customer,
    )


LIVE = (
    select(CustomField)
    .where(CustomField.deleted_at.is_(None))
    .order_by(CustomField.position, CustomField.id)
)


# The definitions' version (see CustomFieldsVersion), for a statement that reads tickets to
# carry: tickets.service.TICKET_VIEW has it as `cf_version`.
VERSION = select(CustomFieldsVersion.version).scalar_subquery()

# What a FieldSet holds, as plain rows, with the definitions' version read in the same
# statement (so both are of one moment): on every row, and alone (key None) when no field is
# defined.
DEFINITIONS = (
    select(
        CustomFieldsVersion.version.label("cf_version"),
        CustomField.key,
        CustomField.label,
        CustomField.type,
        CustomField.options,
        CustomField.required,
        CustomField.visible_to_customer,
        CustomField.editable_by_customer,
    )
    .select_from(CustomFieldsVersion)
    .outerjoin(CustomField, CustomField.deleted_at.is_(None))
    .order_by(CustomField.position, CustomField.id)
)

# Per database: the definitions last read in a read session, and their version.
_kept: dict[str, tuple[int, FieldSet]] = {}


async def field_set(session: AsyncSession) -> FieldSet:
    """The live definitions. Kept for their version only when read in a read session: it sees
    committed definitions only, where a writing transaction sees its own changes, which may
    yet roll back."""
    rows = list(await db.execute(session, DEFINITIONS))
    fields = FieldSet({row.key: _definition(row) for row in rows if row.key is not None})
    if rows and isinstance(session, db.AsyncReadSession):
        _kept[_database(session)] = (rows[0].cf_version, fields)
    return fields


def _database(session: AsyncSession) -> str:
    return str(session.get_bind().engine.url)


async def field_set_for(session: AsyncSession, tickets: Iterable[Any]) -> FieldSet:
    """The definitions needed to present these tickets' values: without a value among them,
    none (and no query). Rows that carry the definitions' version (`cf_version`, read in their
    own statement) are presented with the definitions kept for that version, without a query;
    any change of a definition raises the version in its own commit."""
    tickets = list(tickets)
    if not any(ticket.custom_fields for ticket in tickets):
        return FieldSet({})
    version = getattr(tickets[0], "cf_version", None)
    kept = _kept.get(_database(session))
    if kept is not None and version is not None and kept[0] == version:
        return kept[1]
    return await field_set(session)


# --- the list filter ------------------------------------------------------------------------


def filter_params(query: Mapping[str, str]) -> dict[str, str]:
    """The `cf.<key>=<value>` pairs of a query string, read explicitly."""
    return {
        k.removeprefix(FILTER_PREFIX): v for k, v in query.items() if k.startswith(FILTER_PREFIX)
    }


def filter_conditions(
    fields: FieldSet, wanted: Mapping[str, str], *, staff: bool, dialect: str
) -> list[ColumnElement[bool]]:
    """Equality per field (a multiselect: contains the option). On PostgreSQL one JSONB
    containment, which the GIN index on the column serves whatever the field."""
    matched: dict[str, values.JSONValue] = {}
    for key, raw in wanted.items():
        field = fields.fields.get(key)
        if field is None or not (staff or field.visible_to_customer):
            raise Invalid("no such custom field", field=f"{FILTER_PREFIX}{key}", location="query")
        try:
            matched[key] = values.filter_value(field, raw)
        except ValueError as error:
            raise Invalid(
                f"{field.label}: {error}", field=f"{FILTER_PREFIX}{key}", location="query"
            ) from None
    if not matched:
        return []
    if dialect == "postgresql":
        document = {
            key: [value] if fields.fields[key].type == FieldType.MULTISELECT else value
            for key, value in matched.items()
        }
        return [Ticket.custom_fields.op("@>")(cast(literal(document, JSONB), JSONB))]
    return [_sqlite_condition(fields.fields[key], value) for key, value in matched.items()]


def _sqlite_condition(field: FieldDef, value: values.JSONValue) -> ColumnElement[bool]:
    path = f"$.{field.key}"
    if field.type == FieldType.MULTISELECT:
        each = func.json_each(Ticket.custom_fields, path).table_valued("value")
        return exists(select(1).select_from(each).where(each.c.value == value))
    return func.json_extract(Ticket.custom_fields, path) == value


# --- definitions ----------------------------------------------------------------------------


async def list_fields(session: AsyncSession, actor: User) -> list[CustomField]:
    """Staff see every field; customers those shown to them."""
    rows = list(await session.scalars(LIVE))
    return rows if policy.is_staff(actor) else [r for r in rows if r.visible_to_customer]


async def _live(session: AsyncSession, field_id: int) -> CustomField:
    row = await session.get(CustomField, field_id)
    if row is None or row.deleted_at is not None:
        raise NotFound("custom field not found")
    return row


async def create_field(session: AsyncSession, actor: User, data: CustomFieldIn) -> CustomField:
    """Keys are never reused, not even those of deleted fields (old values keep theirs)."""
    policy.require_super_admin(actor)
    taken = await session.scalar(select(CustomField.id).where(CustomField.key == data.key))
    if taken is not None:
        raise Conflict(f"the key {data.key!r} is taken (keys of deleted fields stay reserved)")
    now = clock.now()
    row = CustomField(**data.model_dump(), created_at=now, updated_at=now, deleted_at=None)
    session.add(row)
    await session.flush()
    return row


async def update_field(
    session: AsyncSession, actor: User, field_id: int, data: CustomFieldUpdate
) -> CustomField:
    policy.require_super_admin(actor)
    row = await _live(session, field_id)
    changes = data.model_dump(exclude_unset=True)
    try:
        merged = CustomFieldIn.model_validate({**_definition_input(row), **changes})
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "options"
        raise Invalid(first["msg"].removeprefix("Value error, "), field=field) from None
    for name in changes:
        setattr(row, name, getattr(merged, name))
    row.updated_at = clock.now()
    await session.flush()
    return row


def _definition_input(row: CustomField) -> dict[str, Any]:
    names = CustomFieldIn.model_fields
    return {name: getattr(row, name) for name in names}


async def delete_field(session: AsyncSession, actor: User, field_id: int) -> None:
    """The definition goes out of use; tickets keep their stored values, no longer shown."""
    policy.require_super_admin(actor)
    row = await _live(session, field_id)
    row.deleted_at = clock.now()
    await session.flush()
