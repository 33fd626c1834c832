"""HTTP entrypoints of follow-ups (回访): township staff list open ones and record outcomes."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from flask import g
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field

from services.common.auth import STAFF, require
from services.common.county import Township
from services.common.errors import Forbidden, NotFound
from services.common.paging import PageQuery
from services.common.schemas import ERROR_RESPONSES, StrictBody
from services.ratings import followups_service as service
from services.ratings.followups import Followup

followups_api = APIBlueprint(
    "followups",
    __name__,
    url_prefix="/api/v1/followups",
    abp_tags=[Tag(name="followups", description="回访")],
    abp_security=[{"bearer": []}],
    abp_responses=ERROR_RESPONSES,
)


class FollowupQuery(PageQuery):
    township: Township | None = None
    status: Literal["open", "resolved"] | None = "open"
    reason: Literal["low_score", "sampled"] | None = None


class FollowupPath(BaseModel):
    followup_id: str = Field(min_length=1, max_length=64)


class ResolveBody(StrictBody):
    outcome: Literal["satisfied", "resolved", "unresolved", "unreachable"]
    note: str | None = Field(None, max_length=1000)


@followups_api.get("")
def list_followups(query: FollowupQuery) -> dict[str, Any]:
    """Follow-ups (open ones unless asked); township staff see their township's only."""
    principal = require(*STAFF)
    township = query.township
    if principal.township:
        if township and township != principal.township:
            raise Forbidden(f"you see follow-ups of {principal.township} only", field="township")
        township = principal.township
    found = service.list_followups(
        township=township, status=query.status, reason=query.reason, limit=query.limit, before=query.before
    )
    items = [present(item) for item in found]
    return {"items": items, "next_before": items[-1]["id"] if len(items) == query.limit else None}


@followups_api.get("/<followup_id>")
def get_followup(path: FollowupPath) -> dict[str, Any]:
    """One follow-up (staff covering its township)."""
    principal = require(*STAFF)
    found = service.get_followup(path.followup_id)
    if not principal.covers_township(found.township):
        raise NotFound("no follow-up with that id")
    return present(found)


@followups_api.post("/<followup_id>/resolve")
def resolve_followup(path: FollowupPath, body: ResolveBody) -> dict[str, Any]:
    """Record how the call went (staff covering its township); announced as `followup.resolved`."""
    principal = require(*STAFF)
    found = service.get_followup(path.followup_id)
    if not principal.covers_township(found.township):
        raise NotFound("no follow-up with that id")
    return present(
        service.resolve_followup(path.followup_id, body.outcome, body.note, principal, g.request_id)
    )


def present(item: Followup) -> dict[str, Any]:
    """A follow-up as staff see it (the request id is its id)."""
    view = asdict(item)
    view.pop("version")
    view["status"] = item.status.value
    view["request_id"] = item.id
    return view
