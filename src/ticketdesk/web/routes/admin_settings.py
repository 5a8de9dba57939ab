"""The admin console's settings of later features: macros, custom fields, assignment rules.

Each form becomes the API's body (MacroIn, CustomFieldIn, RuleIn, and their updates) and goes
to the same service function; the services' messages are the page's."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from ticketdesk.assignment_rules import service as rules
from ticketdesk.assignment_rules.models import Strategy
from ticketdesk.assignment_rules.schemas import RuleIn, RuleUpdate
from ticketdesk.auth import service as accounts
from ticketdesk.auth.models import Role
from ticketdesk.custom_fields import service as custom_fields
from ticketdesk.custom_fields.models import FieldType
from ticketdesk.custom_fields.schemas import CustomFieldIn, CustomFieldUpdate
from ticketdesk.db import ReadSession, WriteSession
from ticketdesk.macros import service as macros
from ticketdesk.macros.schemas import MacroIn, MacroUpdate
from ticketdesk.tickets.models import Category, Priority, Status
from ticketdesk.validation import MAX_ID
from ticketdesk.web.pages import PageViewer, render, require_admin

router = APIRouter(prefix="/admin", include_in_schema=False)
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
CHOICES = {
    "statuses": list(Status),
    "priorities": list(Priority),
    "categories": list(Category),
    "field_types": list(FieldType),
    "strategies": list(Strategy),
}


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _words(form: FormData, name: str) -> list[str]:
    """ "a, b c" as ["a", "b", "c"]."""
    return [w for w in _text(form, name).replace(",", " ").split() if w]


def _flag(form: FormData, name: str) -> bool:
    return form.get(name) == "on"


def _number(form: FormData, name: str) -> int | str | None:
    """A number field: empty is None; anything else goes to the schema, which names it."""
    value = _text(form, name)
    if not value:
        return None
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else value


def _listed(form: FormData, name: str) -> list[str]:
    return [str(v) for v in form.getlist(name) if str(v)]


# Macros


def _macro_body(form: FormData) -> dict[str, Any]:
    actions: dict[str, Any] = {
        "add_tags": _words(form, "add_tags"),
        "remove_tags": _words(form, "remove_tags"),
        "internal": _flag(form, "internal"),
    }
    for key in ("status", "priority", "category"):
        if _text(form, key):
            actions[key] = _text(form, key)
    assign = _text(form, "assign")
    if assign:
        actions["assign"] = None if assign == "none" else _number(form, "assign")
    return {
        "name": _text(form, "name"),
        "body": str(form.get("body", "")),
        "actions": actions,
        "is_shared": _flag(form, "is_shared"),
    }


async def _staff(session: Any, viewer: PageViewer) -> list[Any]:
    """Agents and super_admins, by id: who a macro or a rule may assign to."""
    found = []
    for role in (Role.AGENT, Role.SUPER_ADMIN):
        found += await accounts.list_users(session, viewer.user, role=role)
    return sorted(found, key=lambda user: user.id)


@router.get("/macros")
async def macro_list(request: Request, session: ReadSession, viewer: PageViewer) -> Response:
    require_admin(viewer)
    context = {
        "macros": await macros.list_macros(session, viewer.user),
        "staff": await _staff(session, viewer),
        "section": "macros",
        **CHOICES,
    }
    return render(request, "admin/macros.html", context)


@router.post("/macros")
async def macro_create(request: Request, session: WriteSession, viewer: PageViewer) -> Response:
    require_admin(viewer)
    data = MacroIn.model_validate(_macro_body(await request.form()))
    row = await macros.create_macro(session, viewer.user, data)
    return RedirectResponse(f"/admin/macros#macro-{row.id}", 303)


@router.post("/macros/{macro_id}")
async def macro_update(
    request: Request, session: WriteSession, viewer: PageViewer, macro_id: RowId
) -> Response:
    require_admin(viewer)
    data = MacroUpdate.model_validate(_macro_body(await request.form()))
    await macros.update_macro(session, viewer.user, macro_id, data)
    return RedirectResponse(f"/admin/macros#macro-{macro_id}", 303)


@router.post("/macros/{macro_id}/delete")
async def macro_delete(session: WriteSession, viewer: PageViewer, macro_id: RowId) -> Response:
    require_admin(viewer)
    await macros.delete_macro(session, viewer.user, macro_id)
    return RedirectResponse("/admin/macros", 303)


# Custom fields


def _field_body(form: FormData, *, creating: bool) -> dict[str, Any]:
    options = [o.strip() for o in _text(form, "options").split(",") if o.strip()]
    body: dict[str, Any] = {
        "label": _text(form, "label"),
        "required": _flag(form, "required"),
        "visible_to_customer": _flag(form, "visible_to_customer"),
        "editable_by_customer": _flag(form, "editable_by_customer"),
        "position": _number(form, "position") or 0,
    }
    if options:
        body["options"] = options
    if creating:
        body |= {"key": _text(form, "key"), "type": _text(form, "type")}
    return body


@router.get("/custom-fields")
async def field_list(request: Request, session: ReadSession, viewer: PageViewer) -> Response:
    require_admin(viewer)
    context = {
        "fields": await custom_fields.list_fields(session, viewer.user),
        "section": "custom-fields",
        **CHOICES,
    }
    return render(request, "admin/custom_fields.html", context)


@router.post("/custom-fields")
async def field_create(request: Request, session: WriteSession, viewer: PageViewer) -> Response:
    require_admin(viewer)
    data = CustomFieldIn.model_validate(_field_body(await request.form(), creating=True))
    row = await custom_fields.create_field(session, viewer.user, data)
    return RedirectResponse(f"/admin/custom-fields#field-{row.id}", 303)


@router.post("/custom-fields/{field_id}")
async def field_update(
    request: Request, session: WriteSession, viewer: PageViewer, field_id: RowId
) -> Response:
    require_admin(viewer)
    data = CustomFieldUpdate.model_validate(_field_body(await request.form(), creating=False))
    await custom_fields.update_field(session, viewer.user, field_id, data)
    return RedirectResponse(f"/admin/custom-fields#field-{field_id}", 303)


@router.post("/custom-fields/{field_id}/delete")
async def field_delete(session: WriteSession, viewer: PageViewer, field_id: RowId) -> Response:
    require_admin(viewer)
    await custom_fields.delete_field(session, viewer.user, field_id)
    return RedirectResponse("/admin/custom-fields", 303)


# Assignment rules


def _rule_body(form: FormData) -> dict[str, Any]:
    return {
        "name": _text(form, "name"),
        "position": _number(form, "position") or 0,
        "is_active": _flag(form, "is_active"),
        "conditions": {
            "categories": _listed(form, "categories"),
            "priorities": _listed(form, "priorities"),
            "tags": _words(form, "tags"),
        },
        "strategy": _text(form, "strategy") or Strategy.ROUND_ROBIN.value,
        "agent_ids": [
            int(v) if v.isdigit() and len(v) < 10 else v for v in _listed(form, "agent_ids")
        ],
        "only_available": _flag(form, "only_available"),
        "max_open_per_agent": _number(form, "max_open_per_agent"),
    }


@router.get("/assignment-rules")
async def rule_list(request: Request, session: ReadSession, viewer: PageViewer) -> Response:
    require_admin(viewer)
    context = {
        "rules": await rules.list_rules(session, viewer.user),
        "staff": await _staff(session, viewer),
        "section": "assignment-rules",
        **CHOICES,
    }
    return render(request, "admin/assignment_rules.html", context)


@router.post("/assignment-rules")
async def rule_create(request: Request, session: WriteSession, viewer: PageViewer) -> Response:
    require_admin(viewer)
    data = RuleIn.model_validate(_rule_body(await request.form()))
    row = await rules.create_rule(session, viewer.user, data)
    return RedirectResponse(f"/admin/assignment-rules#rule-{row.id}", 303)


@router.post("/assignment-rules/{rule_id}")
async def rule_update(
    request: Request, session: WriteSession, viewer: PageViewer, rule_id: RowId
) -> Response:
    require_admin(viewer)
    data = RuleUpdate.model_validate(_rule_body(await request.form()))
    await rules.update_rule(session, viewer.user, rule_id, data)
    return RedirectResponse(f"/admin/assignment-rules#rule-{rule_id}", 303)


@router.post("/assignment-rules/{rule_id}/delete")
async def rule_delete(session: WriteSession, viewer: PageViewer, rule_id: RowId) -> Response:
    require_admin(viewer)
    await rules.delete_rule(session, viewer.user, rule_id)
    return RedirectResponse("/admin/assignment-rules", 303)
