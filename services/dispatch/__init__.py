"""The dispatching stage (派单): who is offered each request, and what happens when they say no."""

from __future__ import annotations

from flask_openapi3 import OpenAPI

from services.common.app import create_service_app
from services.common.settings import Settings, load_settings
from services.common.worker import PeriodicJob, WorkerSpec

SERVICE = "dispatch"


def create_app(settings: Settings | None = None) -> OpenAPI:
    """The web application of the dispatching stage."""
    from services.dispatch.api import dispatch_api

    return create_service_app(
        SERVICE,
        settings or load_settings(SERVICE),
        [dispatch_api],
        description="Offers each request to the right volunteer, re-offers on decline, escalates when stuck.",
    )


def worker_spec() -> WorkerSpec:
    """What the dispatch worker consumes and relays."""
    from services.dispatch.handlers import HANDLERS
    from services.dispatch.models import JobDocument
    from services.dispatch.timers import run_batch, sweep_deadlines
    from services.dispatch.usecases import OTHER_DOCUMENTS

    return WorkerSpec(
        service=SERVICE,
        handlers=HANDLERS,
        outbox_documents=[JobDocument],
        other_documents=OTHER_DOCUMENTS,
        periodic=[
            PeriodicJob("offer-deadlines", 1, sweep_deadlines),
            PeriodicJob("batch-assign", 1, run_batch),
        ],
    )
