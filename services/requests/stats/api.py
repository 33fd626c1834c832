"""HTTP entrypoint of the county report: `GET /api/v1/stats/rollout?from=&to=&township=`."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from services.common.auth import STAFF, require, township_scope
from services.common.ids import utcnow
from services.common.schemas import ERROR_RESPONSES
from services.requests.stats import usecases
from services.requests.stats.schemas import RolloutQuery, RolloutView, rollout_view

stats_api = APIBlueprint(
    "stats",
    __name__,
    url_prefix="/api/v1/stats",
    abp_tags=[Tag(name="stats", description="the county's rollout figures")],
    abp_security=[{"bearer": []}],
    abp_responses=ERROR_RESPONSES,
)


@stats_api.get("/rollout", responses={200: RolloutView})
def rollout(query: RolloutQuery) -> RolloutView:
    """The county report (dispatchers and admins; township staff get their own township)."""
    principal = require(*STAFF)
    township = township_scope(principal, query.township, "figures")
    return rollout_view(usecases.rollout(query.start, query.end, township), generated_at=utcnow())
