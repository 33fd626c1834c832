"""HTTP entrypoints of follow-ups (回访): township staff list them and record outcomes."""

from __future__ import annotations

from flask import g
from flask_openapi3 import APIBlueprint, Tag

from services.common.auth import STAFF, require, township_scope
from services.common.schemas import ERROR_RESPONSES, Problem
from services.ratings.followups import usecases
from services.ratings.followups.schemas import (
    FollowupPage,
    FollowupPath,
    FollowupQuery,
    FollowupView,
    ResolveBody,
    followup_page,
    followup_view,
)

followups_api = APIBlueprint(
    "followups",
    __name__,
    url_prefix="/api/v1/followups",
    abp_tags=[Tag(name="followups", description="回访")],
    abp_security=[{"bearer": []}],
    abp_responses=ERROR_RESPONSES,
)


@followups_api.get("", responses={200: FollowupPage})
def list_followups(query: FollowupQuery) -> FollowupPage:
    """Follow-ups (open ones unless asked), newest first; township staff see their township's only."""
    principal = require(*STAFF)
    township = township_scope(principal, query.township, "follow-ups")
    found = usecases.list_followups(
        township=township, status=query.status, reason=query.reason, limit=query.limit, before=query.before
    )
    return followup_page(found)


@followups_api.get("/<followup_id>", responses={200: FollowupView})
def get_followup(path: FollowupPath) -> FollowupView:
    """One follow-up (staff covering its township)."""
    principal = require(*STAFF)
    return followup_view(usecases.covered_followup(principal, path.followup_id))


@followups_api.post("/<followup_id>/resolve", responses={200: FollowupView, 409: Problem})
def resolve_followup(path: FollowupPath, body: ResolveBody) -> FollowupView:
    """Record how the call went (staff covering its township); announced as `followup.resolved`."""
    principal = require(*STAFF)
    usecases.covered_followup(principal, path.followup_id)
    resolved = usecases.resolve_followup(path.followup_id, body.outcome, body.note, principal, g.request_id)
    return followup_view(resolved)
