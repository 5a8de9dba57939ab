"""Which agent a rule picks, given who qualifies. Pure: no I/O, no clock."""

from collections.abc import Mapping, Sequence
from typing import Any

from ticketdesk.assignment_rules.models import Strategy


def matches(
    conditions: Mapping[str, Any], *, category: str, priority: str, tags: Sequence[str]
) -> bool:
    """Every condition given must hold: category and priority among those listed, and at least
    one of the listed tags on the ticket. No conditions match every ticket."""
    if conditions.get("categories") and category not in conditions["categories"]:
        return False
    if conditions.get("priorities") and priority not in conditions["priorities"]:
        return False
    wanted = conditions.get("tags")
    return not wanted or any(tag in wanted for tag in tags)


def in_turn(agent_ids: Sequence[int], last: int | None) -> list[int]:
    """The rule's agents in turn order: the one after `last` first, wrapping around."""
    if last not in agent_ids:
        return list(agent_ids)
    start = agent_ids.index(last) + 1
    return [*agent_ids[start:], *agent_ids[:start]]


def choose(
    strategy: Strategy, agent_ids: Sequence[int], last: int | None, open_counts: Mapping[int, int]
) -> int | None:
    """Among the qualifying agents (the keys of `open_counts`): round robin takes the next in
    turn, least loaded the one with the fewest open tickets (ties go by turn)."""
    turn = [agent for agent in in_turn(agent_ids, last) if agent in open_counts]
    if not turn:
        return None
    if strategy == Strategy.ROUND_ROBIN:
        return turn[0]
    return min(turn, key=lambda agent: open_counts[agent])
