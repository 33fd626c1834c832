"""The accepting stage (接单): volunteers, teams, stations, the task inbox and the hours ledger."""

from __future__ import annotations

from flask_openapi3 import OpenAPI

from services.common.app import create_service_app
from services.common.settings import Settings, load_settings
from services.common.worker import WorkerSpec

SERVICE = "volunteers"


def create_app(settings: Settings | None = None) -> OpenAPI:
    """The web application of the accepting stage."""
    from services.volunteers.pool.usecases import pool_api
    from services.volunteers.tasks.api import ALL_BLUEPRINTS
    from services.volunteers.tasks.team import team_tasks_api

    return create_service_app(
        SERVICE,
        settings or load_settings(SERVICE),
        [*ALL_BLUEPRINTS, pool_api, team_tasks_api],
        description="Volunteers and their teams take the tasks dispatch offers them, do them and log hours.",
    )


def worker_spec() -> WorkerSpec:
    """What the volunteers worker consumes and relays."""
    from services.common.worker import PeriodicJob
    from services.volunteers.organisation.usecases import InstituteDocument
    from services.volunteers.pairing import usecases as pairing_service
    from services.volunteers.pool.usecases import OTHER_DOCUMENTS as POOL_DOCUMENTS
    from services.volunteers.tasks.handlers import HANDLERS
    from services.volunteers.tasks.models import TaskDocument, TeamDocument, VolunteerDocument
    from services.volunteers.tasks.usecases import OTHER_DOCUMENTS

    settings = load_settings(SERVICE)
    return WorkerSpec(
        service=SERVICE,
        handlers=HANDLERS,
        outbox_documents=[VolunteerDocument, TaskDocument, TeamDocument, *pairing_service.OUTBOX_DOCUMENTS],
        other_documents=[
            *OTHER_DOCUMENTS,
            *POOL_DOCUMENTS,
            *pairing_service.OTHER_DOCUMENTS,
            InstituteDocument,
        ],
        periodic=[PeriodicJob("pairing-visits", settings.pairing_sweep_seconds, pairing_service.sweep)],
    )
