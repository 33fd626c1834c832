"""The dispatching stage (派单): who is offered each request, and what happens when they say no."""

from __future__ import annotations

from flask_openapi3 import OpenAPI

from services.common import personal
from services.common.app import create_service_app
from services.common.settings import Settings, load_settings
from services.common.worker import PeriodicJob, WorkerSpec

SERVICE = "dispatch"


def create_app(settings: Settings | None = None) -> OpenAPI:
    """The web application of the dispatching stage."""
    from services.dispatch.candidates.api import candidates_api
    from services.dispatch.jobs.api import jobs_api
    from services.dispatch.policy.api import policy_api
    from services.dispatch.staff.api import staff_api

    settings = settings or load_settings(SERVICE)
    # Residents' addresses are sealed at rest (docs/adr/0095): no keys, no start.
    personal.require_keys(settings)
    return create_service_app(
        SERVICE,
        settings,
        [policy_api, staff_api, candidates_api, jobs_api],
        description="Offers each request to the right volunteer, re-offers on decline, escalates when stuck.",
    )


def worker_spec() -> WorkerSpec:
    """What the dispatch worker consumes and relays."""
    from services.common.consumer import combine_handlers
    from services.dispatch.candidates import handlers as candidates
    from services.dispatch.candidates.models import TeamDocument, VolunteerDocument
    from services.dispatch.jobs import handlers as jobs
    from services.dispatch.jobs.models import JobDocument
    from services.dispatch.policy.models import PolicyDocument
    from services.dispatch.timers.usecases import run_batch, sweep_deadlines

    return WorkerSpec(
        service=SERVICE,
        seals_personal_data=True,
        handlers=combine_handlers(jobs.HANDLERS, candidates.HANDLERS),
        outbox_documents=[JobDocument, PolicyDocument],
        other_documents=[VolunteerDocument, TeamDocument],
        periodic=[
            PeriodicJob("offer-deadlines", 1, sweep_deadlines, follows_clock=True),
            PeriodicJob("batch-assign", 1, run_batch, follows_clock=True),
        ],
    )
