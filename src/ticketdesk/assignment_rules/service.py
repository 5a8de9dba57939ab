"""Auto-assignment rules: kept by the super_admin (the picking is in autoassign.py)."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketdesk import clock
from ticketdesk.assignment_rules.models import AssignmentRule
from ticketdesk.assignment_rules.schemas import RuleIn, RuleUpdate
from ticketdesk.auth import policy
from ticketdesk.auth.models import STAFF_ROLES, User
from ticketdesk.errors import Invalid, NotFound


async def list_rules(session: AsyncSession, actor: User) -> list[AssignmentRule]:
    """In the order they are tried: by position, then id."""
    policy.require_super_admin(actor)
    query = select(AssignmentRule).order_by(AssignmentRule.position, AssignmentRule.id)
    return list(await session.scalars(query))


async def _get(session: AsyncSession, rule_id: int) -> AssignmentRule:
    row = await session.get(AssignmentRule, rule_id)
    if row is None:
        raise NotFound("assignment rule not found")
    return row


async def _require_staff(session: AsyncSession, agent_ids: list[int]) -> None:
    """A rule names active support staff only (one who leaves later is simply skipped)."""
    query = select(User.id).where(
        User.id.in_(agent_ids), User.role.in_(STAFF_ROLES), User.is_active.is_(True)
    )
    found = set(await session.scalars(query))
    missing = [str(a) for a in agent_ids if a not in found]
    if missing:
        raise Invalid(f"not active support staff: {', '.join(missing)}", field="agent_ids")


def _columns(data: dict[str, Any]) -> dict[str, Any]:
    if "conditions" in data:
        data["conditions"] = {k: [str(v) for v in vs] for k, vs in data["conditions"].items()}
    return data


async def create_rule(session: AsyncSession, actor: User, data: RuleIn) -> AssignmentRule:
    policy.require_super_admin(actor)
    await _require_staff(session, data.agent_ids)
    now = clock.now()
    row = AssignmentRule(
        **_columns(data.model_dump()), last_agent_id=None, created_at=now, updated_at=now
    )
    session.add(row)
    await session.flush()
    return row


async def update_rule(
    session: AsyncSession, actor: User, rule_id: int, data: RuleUpdate
) -> AssignmentRule:
    policy.require_super_admin(actor)
    row = await _get(session, rule_id)
    changes = data.model_dump(exclude_unset=True)
    if data.conditions is not None:
        # Whole: conditions sent replace the rule's, their left-out keys matching anything.
        changes["conditions"] = data.conditions.model_dump()
    changes = _columns(changes)
    if "agent_ids" in changes:
        await _require_staff(session, changes["agent_ids"])
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = clock.now()
    await session.flush()
    return row


async def delete_rule(session: AsyncSession, actor: User, rule_id: int) -> None:
    policy.require_super_admin(actor)
    await session.delete(await _get(session, rule_id))
    await session.flush()
