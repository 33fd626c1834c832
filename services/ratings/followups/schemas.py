"""HTTP parameters, bodies and views of follow-ups; they double as their OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.common.county import Township
from services.common.paging import Listed, Page, PageQuery
from services.common.schemas import StrictBody, View
from services.ratings.followups.domain import Followup, FollowupStatus

Reason = Literal["low_score", "sampled"]
Outcome = Literal["satisfied", "resolved", "unresolved", "unreachable"]


class FollowupQuery(PageQuery):
    township: Township | None = None
    status: Literal["open", "resolved"] | None = "open"
    reason: Reason | None = None


class FollowupPath(BaseModel):
    followup_id: str = Field(min_length=1, max_length=64)


class ResolveBody(StrictBody):
    outcome: Outcome
    note: str | None = Field(None, max_length=1000)


class FollowupView(View):
    """A call-back to the resident of one request, as staff see it; its id is the request id."""

    id: str
    township: str
    category: str
    reasons: list[Reason]
    opened_at: datetime
    status: FollowupStatus
    resident_id: str | None
    volunteer_id: str | None
    score: int | None
    comment: str | None
    outcome: Outcome | None
    note: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    request_id: str


class FollowupPage(Page[FollowupView], View):
    """Follow-ups, newest first."""


def followup_view(followup: Followup) -> FollowupView:
    """A follow-up as staff see it."""
    return FollowupView(
        id=followup.id,
        township=followup.township,
        category=followup.category,
        reasons=followup.reasons,
        opened_at=followup.opened_at,
        status=followup.status,
        resident_id=followup.resident_id,
        volunteer_id=followup.volunteer_id,
        score=followup.score,
        comment=followup.comment,
        outcome=followup.outcome,
        note=followup.note,
        resolved_by=followup.resolved_by,
        resolved_at=followup.resolved_at,
        request_id=followup.id,
    )


def followup_page(found: Listed[Followup]) -> FollowupPage:
    """One page of follow-ups and the cursor of the next."""
    return FollowupPage(**found.body(followup_view))
