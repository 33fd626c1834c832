"""HTTP bodies of the rating stage; they double as its OpenAPI document."""

from __future__ import annotations

from pydantic import BaseModel, Field

from services.common.schemas import StrictBody


class RatingCreate(StrictBody):
    request_id: str = Field(min_length=1, max_length=64)
    score: int = Field(ge=1, le=5, description="1 (poor) to 5 (excellent)")
    comment: str | None = Field(None, max_length=500)


class RatingPath(BaseModel):
    request_id: str = Field(min_length=1, max_length=64)
