"""One service at a time, in the test process, against the real RabbitMQ and database server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from importlib import import_module
from typing import Any

import pytest
from flask.testing import FlaskClient

from services.common import db
from services.common.settings import Settings
from services.common.worker import Worker
from tests.support import EventCapture, delete_queues, drop_database, integration_settings, running_worker

pytestmark = pytest.mark.integration


@dataclass
class Harness:
    """A service's web app (test client), its running worker, and a capture of the bus."""

    settings: Settings
    client: FlaskClient
    worker: Worker
    bus: EventCapture

    def call(self, method: str, path: str, headers: dict[str, str], **kwargs: Any) -> Any:
        """An HTTP call to the app."""
        return self.client.open(path, method=method, headers=headers, **kwargs)


@pytest.fixture(scope="module")
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    """The service named by the test module's SERVICE, on a fresh database and fresh queues."""
    service_name = request.module.SERVICE
    settings = integration_settings(service_name)
    drop_database(settings)
    delete_queues(settings.amqp_url, service_name)
    service = import_module(f"services.{service_name}")
    app = service.create_app(settings)
    bus = EventCapture(settings.amqp_url)
    try:
        with running_worker(service.worker_spec(), settings) as worker:
            yield Harness(settings, app.test_client(), worker, bus)
    finally:
        bus.close()


@pytest.fixture(autouse=True)
def _no_fail_fast_window_from_the_test_before():
    """Each test starts without the web's database fail-fast window a previous outage test left."""
    db.forget_unavailable()
