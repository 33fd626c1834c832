"""HTTP entrypoints of ratings: rate a completed service, read a request's rating."""

from __future__ import annotations

from flask import g
from flask_openapi3 import APIBlueprint, Tag

from services.common.auth import Principal, Role, require
from services.common.errors import NotFound
from services.common.schemas import ERROR_RESPONSES, Problem
from services.ratings.ratings import usecases
from services.ratings.ratings.domain import Rateable
from services.ratings.ratings.schemas import RatingCreate, RatingPath, RatingView, rating_view

ratings_api = APIBlueprint(
    "ratings",
    __name__,
    url_prefix="/api/v1/ratings",
    abp_tags=[Tag(name="ratings", description="评单")],
    abp_security=[{"bearer": []}],
    abp_responses=ERROR_RESPONSES,
)


@ratings_api.post("", responses={201: RatingView, 409: Problem})
def create_rating(body: RatingCreate) -> tuple[RatingView, int]:
    """Rate a completed service: whoever ordered it (staff for the wishes they posted), once."""
    # Staff order micro-wishes for beneficiaries and rate them on their behalf; ownership still applies.
    principal = require(Role.RESIDENT, Role.STEWARD, Role.DISPATCHER, Role.ADMIN)
    rated = usecases.rate_request(body.request_id, principal.sub, body.score, body.comment, g.request_id)
    return rating_view(rated), 201


@ratings_api.get("/<request_id>", responses={200: RatingView})
def get_rating(path: RatingPath) -> RatingView:
    """A request's rating (its resident, the volunteer who served, or staff)."""
    principal = require()
    try:
        rateable = usecases.get_rateable(path.request_id)
    except usecases.NothingToRate:
        raise NotFound("no rating for that request") from None
    if not _may_see(principal, rateable):
        raise NotFound("no rating for that request")
    return rating_view(rateable)


def _may_see(principal: Principal, rateable: Rateable) -> bool:
    return principal.sub in (rateable.resident_id, rateable.volunteer_id) or principal.covers_township(
        rateable.township
    )
