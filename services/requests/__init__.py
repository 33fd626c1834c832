"""The requests stage (点单): residents' orders, their timeline, the catalogue, rollout statistics.

Its feature packages, from the bottom up; each imports only packages listed before it:
catalog, stations (a read-model of the organisation's stations), orders, the order sources
(pairing, patrols, wishes, open311), stats, lifecycle.
"""

from __future__ import annotations

from flask_openapi3 import OpenAPI

from services.common import personal
from services.common.app import create_service_app
from services.common.settings import Settings, load_settings
from services.common.worker import PeriodicJob, WorkerSpec

SERVICE = "requests"


def create_app(settings: Settings | None = None) -> OpenAPI:
    """The web application of the requests stage."""
    from services.requests.catalog.api import catalog_api
    from services.requests.open311.api import open311_api
    from services.requests.orders.api import requests_api
    from services.requests.patrols.api import patrols_api
    from services.requests.stats.api import stats_api
    from services.requests.wishes.api import wishes_api

    settings = settings or load_settings(SERVICE)
    # Residents' phones and addresses are sealed at rest (docs/adr/0095): no keys, no start.
    personal.require_keys(settings)
    return create_service_app(
        SERVICE,
        settings,
        [requests_api, catalog_api, stats_api, patrols_api, wishes_api, open311_api],
        description="Residents order services; the request's status and timeline follow the whole loop.",
    )


def worker_spec() -> WorkerSpec:
    """What the requests worker consumes, relays and sweeps."""
    from services.requests.lifecycle import handlers as lifecycle
    from services.requests.orders.models import DailyCounter, RequestDocument
    from services.requests.orders.usecases import measure_open_requests
    from services.requests.pairing import handlers as pairing
    from services.requests.patrols.models import PatrolReportDocument
    from services.requests.patrols.usecases import patrol_jobs
    from services.requests.stations import handlers as stations
    from services.requests.stations.models import KnownStation
    from services.requests.stats.models import RolloutFactDocument
    from services.requests.stats.usecases import measure_rollout_gauges

    return WorkerSpec(
        service=SERVICE,
        seals_personal_data=True,
        handlers={**lifecycle.HANDLERS, **pairing.HANDLERS, **stations.HANDLERS},
        outbox_documents=[RequestDocument],
        other_documents=[DailyCounter, RolloutFactDocument, PatrolReportDocument, KnownStation],
        periodic=[
            PeriodicJob("open-requests-gauge", 15, measure_open_requests),
            PeriodicJob("rollout-gauges", 15, measure_rollout_gauges),
            PeriodicJob("patrol-reports", 5, patrol_jobs, follows_clock=True),
        ],
    )
