"""The accepting stage (接单): volunteers, teams, stations, the task inbox, hours and pairing.

Each feature is a package (stations, people, organisation, pool, tasks, hours, pairing; README "Where things
live"); this module puts their blueprints into the web app and their handlers into the worker.
"""

from __future__ import annotations

from flask_openapi3 import OpenAPI

from services.common import personal
from services.common.app import create_service_app
from services.common.settings import Settings, load_settings
from services.common.worker import WorkerSpec

SERVICE = "volunteers"


def create_app(settings: Settings | None = None) -> OpenAPI:
    """The web application of the accepting stage."""
    from services.volunteers.hours.api import hours_records_api, hours_tasks_api
    from services.volunteers.organisation.api import organisation_api, teams_api
    from services.volunteers.pairing.api import beneficiaries_api, pairings_api, visits_api
    from services.volunteers.people.api import volunteers_api
    from services.volunteers.pool.api import pool_api
    from services.volunteers.stations.api import stations_api
    from services.volunteers.tasks.api import pool_claims_api, tasks_api

    settings = settings or load_settings(SERVICE)
    # Residents' addresses are sealed at rest (docs/adr/0095): no keys, no start.
    personal.require_keys(settings)
    return create_service_app(
        SERVICE,
        settings,
        [
            volunteers_api,
            organisation_api,
            teams_api,
            stations_api,
            tasks_api,
            pool_api,
            pool_claims_api,
            hours_tasks_api,
            hours_records_api,
            beneficiaries_api,
            pairings_api,
            visits_api,
        ],
        description="Volunteers and their teams take the tasks dispatch offers them, do them and log hours.",
    )


def worker_spec() -> WorkerSpec:
    """What the volunteers worker consumes, relays and sweeps."""
    from services.common.consumer import combine_handlers
    from services.common.worker import PeriodicJob
    from services.volunteers.hours import handlers as hours
    from services.volunteers.hours.models import HoursEntry
    from services.volunteers.organisation.models import InstituteDocument, TeamDocument
    from services.volunteers.pairing import handlers as pairing
    from services.volunteers.pairing import usecases as pairing_usecases
    from services.volunteers.pairing.models import BeneficiaryDocument, PairingDocument, VisitDocument
    from services.volunteers.people.models import VolunteerDocument
    from services.volunteers.pool import handlers as pool
    from services.volunteers.pool.models import CancelledRequest, PoolClaim, PoolEntry
    from services.volunteers.stations.models import StationDocument
    from services.volunteers.tasks import handlers as tasks
    from services.volunteers.tasks.models import TaskDocument

    settings = load_settings(SERVICE)
    return WorkerSpec(
        service=SERVICE,
        seals_personal_data=True,
        # Order matters where two features consume one event: the pool records a cancellation
        # before tasks withdraw, and hours are credited before the pairing visit is closed.
        handlers=combine_handlers(pool.HANDLERS, tasks.HANDLERS, hours.HANDLERS, pairing.HANDLERS),
        outbox_documents=[
            VolunteerDocument,
            TaskDocument,
            TeamDocument,
            VisitDocument,
            PairingDocument,
            StationDocument,
            HoursEntry,
        ],
        other_documents=[
            InstituteDocument,
            CancelledRequest,
            PoolEntry,
            PoolClaim,
            BeneficiaryDocument,
        ],
        periodic=[
            PeriodicJob(
                "pairing-visits", settings.pairing_sweep_seconds, pairing_usecases.sweep, follows_clock=True
            )
        ],
    )
