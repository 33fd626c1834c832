"""Queries and views of the claim pool's API; they double as its OpenAPI document."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from services.common.contracts import RequestPooled, TimeWindow
from services.common.schemas import View


class PoolQuery(BaseModel):
    limit: int = Field(50, ge=1, le=200)


class PoolPath(BaseModel):
    request_id: str = Field(min_length=1, max_length=64)


class PoolEntryView(View):
    """A request open for claims: what it is, where, and what skills it needs."""

    request_id: str
    category: str
    skills_required: list[str]
    township: str
    village: str
    title: str
    urgency: str
    pooled_at: datetime
    window: TimeWindow | None


class PoolView(View):
    """The open requests the caller could claim, their own township first, then oldest first."""

    items: list[PoolEntryView]


def pool_entry_view(pooled: RequestPooled) -> PoolEntryView:
    """A pooled request as volunteers see it before claiming it."""
    return PoolEntryView(
        request_id=pooled.request_id,
        category=pooled.category,
        skills_required=pooled.skills_required,
        township=pooled.township,
        village=pooled.village,
        title=pooled.title,
        urgency=pooled.urgency,
        pooled_at=pooled.pooled_at,
        window=pooled.window,
    )
