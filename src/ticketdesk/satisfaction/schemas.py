from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from ticketdesk.satisfaction.models import Rating
from ticketdesk.validation import Strict, lower_enum, no_nul, text

RatingValue = Annotated[Rating, BeforeValidator(lower_enum)]
RatingComment = Annotated[str, text(2_000), AfterValidator(no_nul)]


class RatingIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"rating": "good", "comment": "Quick and friendly."}]}
    )

    rating: RatingValue
    comment: RatingComment | None = None


class SatisfactionRead(BaseModel):
    """The ticket's rating (null until given) and whether it may be given or changed now."""

    ticket_id: int
    rating: Rating | None
    comment: str | None
    created_at: datetime | None
    updated_at: datetime | None
    can_rate: bool
    # Until when the rating may still be changed: 7 days after the ticket was closed.
    changeable_until: datetime | None


class Satisfaction(BaseModel):
    good: int
    bad: int
    # good / (good + bad) in percent, 2 decimals; null when there are no ratings.
    score: float | None
