"""HTTP entrypoints of the rating stage."""

from __future__ import annotations

from typing import Any

from flask import g
from flask_openapi3 import APIBlueprint, Tag

from services.common.auth import Principal, Role, require
from services.common.errors import NotFound
from services.common.schemas import ERROR_RESPONSES
from services.ratings import usecases
from services.ratings.domain import Rateable
from services.ratings.schemas import RatingCreate, RatingPath

ratings_api = APIBlueprint(
    "ratings",
    __name__,
    url_prefix="/api/v1/ratings",
    abp_tags=[Tag(name="ratings", description="评单")],
    abp_security=[{"bearer": []}],
    abp_responses=ERROR_RESPONSES,
)


@ratings_api.post("")
def create_rating(body: RatingCreate) -> tuple[dict[str, Any], int]:
    """Rate a completed service: whoever ordered it (staff for the wishes they posted), once."""
    # Staff order micro-wishes for beneficiaries and rate them on their behalf; ownership still applies.
    principal = require(Role.RESIDENT, Role.STEWARD, Role.DISPATCHER, Role.ADMIN)
    rated = usecases.rate_request(body.request_id, principal.sub, body.score, body.comment, g.request_id)
    return present(rated), 201


@ratings_api.get("/<request_id>")
def get_rating(path: RatingPath) -> dict[str, Any]:
    """A request's rating (its resident, the volunteer who served, or staff)."""
    principal = require()
    try:
        rateable = usecases.get_rateable(path.request_id)
    except usecases.NothingToRate:
        raise NotFound("no rating for that request") from None
    if not _may_see(principal, rateable):
        raise NotFound("no rating for that request")
    return present(rateable)


def _may_see(principal: Principal, rateable: Rateable) -> bool:
    return principal.sub in (rateable.resident_id, rateable.volunteer_id) or principal.covers_township(
        rateable.township
    )


def present(rateable: Rateable) -> dict[str, Any]:
    """A rating slot as the API shows it."""
    return {
        "request_id": rateable.id,
        "status": rateable.status.value,
        "rating_id": rateable.rating_id,
        "score": rateable.score,
        "comment": rateable.comment,
        "rated_at": rateable.rated_at,
        "volunteer_id": rateable.volunteer_id,
        "township": rateable.township,
        "category": rateable.category,
        "completed_at": rateable.completed_at,
    }
