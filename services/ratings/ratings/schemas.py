"""HTTP bodies and views of ratings; they double as their OpenAPI document."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from services.common.schemas import StrictBody, View
from services.ratings.ratings.domain import Rateable, RateableStatus


class RatingCreate(StrictBody):
    request_id: str = Field(min_length=1, max_length=64)
    score: int = Field(ge=1, le=5, description="1 (poor) to 5 (excellent)")
    comment: str | None = Field(None, max_length=500)


class RatingPath(BaseModel):
    request_id: str = Field(min_length=1, max_length=64)


class RatingView(View):
    """A request's rating slot: awaiting its resident's rating, rated, or cancelled before completion."""

    request_id: str
    status: RateableStatus
    rating_id: str | None
    score: int | None
    comment: str | None
    rated_at: datetime | None
    volunteer_id: str | None
    township: str
    category: str
    completed_at: datetime | None


def rating_view(rateable: Rateable) -> RatingView:
    """A rating slot as the API shows it."""
    return RatingView(
        request_id=rateable.id,
        status=rateable.status,
        rating_id=rateable.rating_id,
        score=rateable.score,
        comment=rateable.comment,
        rated_at=rateable.rated_at,
        volunteer_id=rateable.volunteer_id,
        township=rateable.township,
        category=rateable.category,
        completed_at=rateable.completed_at,
    )
