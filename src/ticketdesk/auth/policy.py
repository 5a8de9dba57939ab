"""Who may see or do what. Visibility is a WHERE clause; actions are small predicates."""

from enum import StrEnum
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Select, bindparam, or_, select

from ticketdesk.auth.models import STAFF_ROLES, Role, User
from ticketdesk.errors import Forbidden
from ticketdesk.tickets.models import Status, Ticket
from ticketdesk.tickets.workflow import CUSTOMER_TRANSITIONS

# Custom fields: each field says whether customers may set it (custom_fields.service).
CUSTOMER_EDITABLE = frozenset({"subject", "description", "tags", "custom_fields"})


def is_staff(user: User) -> bool:
    return user.role in STAFF_ROLES


def visible_tickets(actor: User) -> Select[Ticket]:
    """Staff see all tickets. Customers see their own and, within their organization, its
    tickets when it shares them or when they are its `enterprise` manager; never the
    staff-only ones."""
    return select(Ticket).where(*ticket_visibility(actor))


def ticket_visibility(actor: User) -> list[ColumnElement[bool]]:
    """The WHERE clause of `visible_tickets`, for queries that select other columns.

    A ticket belongs to the organization its requester had when it was filed (the ticket's
    own `organization_id`, indexed), so the rule needs no join over users.
    """
    return visibility_rule(visibility_shape(actor), actor.id, actor.organization_id)


class Shape(StrEnum):
    """The forms the visibility rule takes: it differs between viewers only by these and by
    the viewer's ids."""

    ALL = "all"
    OWN = "own"
    ORGANIZATION = "organization"


def visibility_shape(actor: User) -> Shape:
    if is_staff(actor):
        return Shape.ALL
    return Shape.ORGANIZATION if sees_organization_tickets(actor) else Shape.OWN


def visibility_rule(
    shape: Shape, viewer: int | BindParameter[Any], organization: int | BindParameter[Any] | None
) -> list[ColumnElement[bool]]:
    if shape is Shape.ALL:
        return []
    own = Ticket.user_id == viewer
    if shape is Shape.ORGANIZATION:
        own = or_(own, Ticket.organization_id == organization)
    return [own, Ticket.is_internal.is_(False)]


def bound_visibility(shape: Shape) -> list[ColumnElement[bool]]:
    """The rule with the viewer as bound parameters (`viewer_params`), for statements built
    once per shape: such a statement keeps its compiled form from request to request."""
    return visibility_rule(shape, bindparam("viewer_id"), bindparam("viewer_organization_id"))


def viewer_params(actor: User) -> dict[str, Any]:
    return {"viewer_id": actor.id, "viewer_organization_id": actor.organization_id}


def sees_organization_tickets(actor: User) -> bool:
    """Members of a sharing organization see its tickets; its `enterprise` managers always."""
    if actor.organization_id is None or is_staff(actor):
        return False
    return actor.role == Role.ENTERPRISE or bool(actor.organization_shares_tickets)


def require_staff(actor: User) -> None:
    if not is_staff(actor):
        raise Forbidden("only support staff may do this")


def require_super_admin(actor: User) -> None:
    if actor.role != Role.SUPER_ADMIN:
        raise Forbidden("only a super_admin may do this")


def require_user_listing(actor: User, role: Role) -> None:
    """The super_admin lists anyone; agents may list staff."""
    if actor.role == Role.SUPER_ADMIN or (actor.role == Role.AGENT and role in STAFF_ROLES):
        return
    raise Forbidden("not allowed to list these users")


def can_edit_fields(actor: User, ticket: Ticket, fields: set[str]) -> bool:
    """Customers edit subject, description and tags of their own ticket until it is closed."""
    if is_staff(actor):
        return True
    return (
        ticket.user_id == actor.id
        and ticket.status != Status.CLOSED
        and fields <= CUSTOMER_EDITABLE
    )


def can_transition(actor: User, ticket: Ticket, to: Status) -> bool:
    """Customers may only confirm a resolution or reopen, on their own tickets."""
    if is_staff(actor):
        return True
    return ticket.user_id == actor.id and (ticket.status, to) in CUSTOMER_TRANSITIONS
