from typing import Annotated

from fastapi import APIRouter, Path, Response

from ticketdesk.assignment_rules import service as rules
from ticketdesk.assignment_rules.schemas import RuleIn, RuleRead, RuleUpdate
from ticketdesk.auth.dependencies import ApiRoute, CurrentUser, require_scope
from ticketdesk.auth.scopes import Scope
from ticketdesk.db import ReadSession, WriteSession
from ticketdesk.validation import MAX_ID

router = APIRouter(
    route_class=ApiRoute,
    prefix="/assignment-rules",
    tags=["assignment rules"],
    dependencies=[require_scope(Scope.TICKETS_READ, write=Scope.ADMIN)],
)
RuleId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("", operation_id="listAssignmentRules", summary="List auto-assignment rules")
async def list_rules(session: ReadSession, actor: CurrentUser) -> list[RuleRead]:
    """In the order they are tried: the first active rule that matches a ticket decides."""
    return [RuleRead.model_validate(r) for r in await rules.list_rules(session, actor)]


@router.post(
    "",
    operation_id="createAssignmentRule",
    summary="Create an auto-assignment rule",
    status_code=201,
)
async def create_rule(session: WriteSession, actor: CurrentUser, data: RuleIn) -> RuleRead:
    """Super admins add a rule choosing who gets new or reopened unassigned tickets that match
    it."""
    return RuleRead.model_validate(await rules.create_rule(session, actor, data))


@router.patch(
    "/{rule_id}", operation_id="updateAssignmentRule", summary="Update an auto-assignment rule"
)
async def update_rule(
    session: WriteSession, actor: CurrentUser, rule_id: RuleId, data: RuleUpdate
) -> RuleRead:
    """Change a rule's match, agents, strategy, order or active flag."""
    return RuleRead.model_validate(await rules.update_rule(session, actor, rule_id, data))


@router.delete(
    "/{rule_id}",
    operation_id="deleteAssignmentRule",
    summary="Delete an auto-assignment rule",
    status_code=204,
)
async def delete_rule(session: WriteSession, actor: CurrentUser, rule_id: RuleId) -> Response:
    """Tickets already assigned keep their agent."""
    await rules.delete_rule(session, actor, rule_id)
    return Response(status_code=204)
