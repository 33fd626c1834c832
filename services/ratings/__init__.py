"""The rating stage (评单): residents rate the service they received; low scores are flagged."""

from __future__ import annotations

from flask_openapi3 import OpenAPI

from services.common.app import create_service_app
from services.common.settings import Settings, load_settings
from services.common.worker import PeriodicJob, WorkerSpec

SERVICE = "ratings"


def create_app(settings: Settings | None = None) -> OpenAPI:
    """The web application of the rating stage."""
    from services.ratings.followups.api import followups_api
    from services.ratings.ratings.api import ratings_api

    return create_service_app(
        SERVICE,
        settings or load_settings(SERVICE),
        [ratings_api, followups_api],
        description="Residents rate completed services once; low scores are flagged for a follow-up.",
    )


def worker_spec() -> WorkerSpec:
    """What the ratings worker consumes and relays."""
    from services.common.consumer import combine_handlers
    from services.ratings.followups import handlers as followups
    from services.ratings.followups.models import FollowupDocument
    from services.ratings.followups.usecases import measure_open_followups
    from services.ratings.ratings import handlers as ratings
    from services.ratings.ratings.models import RateableDocument

    return WorkerSpec(
        service=SERVICE,
        # A completed task first opens its rating slot, then may be sampled for a follow-up.
        handlers=combine_handlers(ratings.HANDLERS, followups.HANDLERS),
        outbox_documents=[RateableDocument, FollowupDocument],
        periodic=[PeriodicJob("open-followups-gauge", 5, measure_open_followups)],
    )
