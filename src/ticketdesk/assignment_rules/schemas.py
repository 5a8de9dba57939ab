from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from ticketdesk.assignment_rules.models import Strategy
from ticketdesk.tickets.models import Category, Priority
from ticketdesk.tickets.schemas import CategoryIn, PriorityIn, Tags
from ticketdesk.validation import BodyId, Strict, lower_enum, no_nul, text

Name = Annotated[str, text(200), AfterValidator(no_nul)]
StrategyIn = Annotated[Strategy, BeforeValidator(lower_enum)]
Position = Annotated[int, Field(ge=0, le=100_000)]
Capacity = Annotated[int, Field(ge=1, le=100_000)]


def _distinct(ids: list[int]) -> list[int]:
    if len(set(ids)) != len(ids):
        raise ValueError("agent_ids contains duplicates")
    return ids


AgentIds = Annotated[list[BodyId], Field(min_length=1, max_length=200), AfterValidator(_distinct)]


class Conditions(Strict):
    """All given must hold; an empty list or a missing key matches anything."""

    categories: list[CategoryIn] = Field(default_factory=list)
    priorities: list[PriorityIn] = Field(default_factory=list)
    tags: Tags = Field(default_factory=list)


class RuleIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Billing to the billing team",
                    "conditions": {"categories": ["billing"]},
                    "strategy": "least_loaded",
                    "agent_ids": [1],
                    "only_available": True,
                }
            ]
        }
    )

    name: Name
    position: Position = 0
    is_active: bool = True
    conditions: Conditions = Field(default_factory=Conditions)
    strategy: StrategyIn = Strategy.ROUND_ROBIN
    agent_ids: AgentIds
    only_available: bool = False
    max_open_per_agent: Capacity | None = None


class RuleUpdate(Strict):
    """Send a field to change it; `max_open_per_agent` may be null (no limit)."""

    null_refused: ClassVar[frozenset[str]] = frozenset(
        {"name", "position", "is_active", "conditions", "strategy", "agent_ids", "only_available"}
    )

    name: Name | None = None
    position: Position | None = None
    is_active: bool | None = None
    conditions: Conditions | None = None
    strategy: StrategyIn | None = None
    agent_ids: AgentIds | None = None
    only_available: bool | None = None
    max_open_per_agent: Capacity | None = None

    @model_validator(mode="after")
    def _not_null(self) -> "RuleUpdate":
        nulls = sorted(
            f for f in self.model_fields_set & self.null_refused if getattr(self, f) is None
        )
        if nulls:
            raise ValueError(f"{', '.join(nulls)} may not be null")
        return self


class ConditionsRead(BaseModel):
    categories: list[Category]
    priorities: list[Priority]
    tags: list[str]


class RuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    position: int
    is_active: bool
    conditions: ConditionsRead
    strategy: Strategy
    agent_ids: list[int]
    only_available: bool
    max_open_per_agent: int | None
