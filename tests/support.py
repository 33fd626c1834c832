"""Helpers for tests that run against the real broker and database server of the test profile."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import amqp
from pymongo import MongoClient

from civicloop.profiles import Profile
from services.common.auth import issue_token
from services.common.events import Envelope, make_event, parse_event
from services.common.publisher import ConfirmingPublisher, amqp_params
from services.common.settings import Settings
from services.common.topology import EVENTS_EXCHANGE, dead_queue_name, main_queue_name, retry_queue_name
from services.common.worker import Worker, WorkerSpec

T = TypeVar("T")
# CIVICLOOP_TEST_PROFILE lets several checkouts run their suites side by side on one machine.
TEST_PROFILE = os.environ.get("CIVICLOOP_TEST_PROFILE", "test")
_profile = Profile.load(TEST_PROFILE)
SECRET = _profile.need("CIVICLOOP_JWT_SECRET")  # fails naming the profile's file when it is missing
PROFILE = _profile.values()
# Services whose answers the integration tests check against their OpenAPI documents
# (services/common/openapi.py); each joins once all its routes declare their models.
RESPONSE_CHECKED: frozenset[str] = frozenset({"requests", "volunteers", "dispatch", "ratings", "accounts"})
INTEGRATION_AMQP_URL = PROFILE.get("CIVICLOOP_IT_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/civicloop-it")


def integration_settings(service: str, **overrides: Any) -> Settings:
    """Settings of one service against the test profile's servers, on databases of its own."""
    port = PROFILE[f"{service.upper()}_DB_PORT"]
    values: dict[str, Any] = {
        "service": service,
        "process": "test",
        "mongo_url": f"mongodb://127.0.0.1:{port}/it_{service}",
        "postgres_url": postgres_url(service),
        "amqp_url": INTEGRATION_AMQP_URL,
        "jwt_secret": SECRET,
        "environment": "local",
        "retry_delays": [0.1, 0.2, 0.3],
        "outbox_poll_seconds": 0.05,
        "db_timeout_ms": 2000,
        "log_level": "WARNING",
        "check_responses": service in RESPONSE_CHECKED,
    }
    values.update(overrides)
    return Settings(**values)


def postgres_url(service: str) -> str:
    """The PostgreSQL database behind the service's wire server in the test profile."""
    return f"postgresql://postgres@127.0.0.1:{PROFILE['PG_PORT']}/ferretdb_{service}"


def bearer(role: str, sub: str, township: str | None = None, secret: str = SECRET) -> dict[str, str]:
    """An Authorization header for a test principal."""
    return {"Authorization": f"Bearer {issue_token(secret, sub=sub, role=role, township=township)}"}


def wait_until(check: Callable[[], T], timeout: float = 15.0, interval: float = 0.05, what: str = "") -> T:
    """Poll `check` until it returns something truthy; fail the test with `what` on timeout."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or check} (last: {last!r})")


def drop_database(settings: Settings) -> None:
    """Remove the service's test database."""
    with MongoClient(settings.mongo_url, serverSelectionTimeoutMS=5000) as client:
        client.drop_database(settings.database_name)


def delete_queues(amqp_url: str, service: str, retry_levels: int = 3) -> None:
    """Remove a service's queues so a test starts with none of an earlier run's messages."""
    connection = amqp.Connection(**amqp_params(amqp_url))
    connection.connect()
    try:
        channel = connection.channel()
        names = [main_queue_name(service), dead_queue_name(service)]
        names += [retry_queue_name(service, level) for level in range(1, retry_levels + 1)]
        for name in names:
            channel.queue_delete(name)
    finally:
        connection.close()


def publish(amqp_url: str, *envelopes: dict[str, Any]) -> None:
    """Publish envelopes to the events exchange and wait for the broker's confirms."""
    publisher = ConfirmingPublisher(amqp_url)
    try:
        confirmed = publisher.publish_batch(list(envelopes))
        assert confirmed == {e["id"] for e in envelopes}, "the broker did not confirm every test event"
    finally:
        publisher.close()


def event(data: Any, *, producer: str = "test", correlation_id: str | None = None) -> dict[str, Any]:
    """An envelope around catalogue data, as another service would publish it."""
    return make_event(
        data, producer=producer, correlation_id=correlation_id or getattr(data, "request_id", "c")
    )


class EventCapture:
    """Everything published on the events exchange while it is open (an exclusive queue bound to '#')."""

    def __init__(self, amqp_url: str) -> None:
        self.connection = amqp.Connection(**amqp_params(amqp_url))
        self.connection.connect()
        self.channel = self.connection.channel()
        self.channel.exchange_declare(EVENTS_EXCHANGE.name, "topic", durable=True, auto_delete=False)
        self.queue, _, _ = self.channel.queue_declare("", exclusive=True, auto_delete=True)
        self.channel.queue_bind(self.queue, EVENTS_EXCHANGE.name, "#")
        self.seen: list[Envelope] = []

    def _drain(self) -> None:
        while True:
            message = self.channel.basic_get(self.queue, no_ack=True)
            if message is None:
                return
            envelope, _ = parse_event(json.loads(message.body))
            self.seen.append(envelope)

    def of_type(self, event_type: str, **data: Any) -> list[Envelope]:
        """Events of a type seen so far whose data has the given values."""
        self._drain()
        return [
            e
            for e in self.seen
            if e.type == event_type and all(e.data.get(key) == value for key, value in data.items())
        ]

    def wait_for(self, event_type: str, timeout: float = 15.0, **data: Any) -> Envelope:
        """The first event of a type with the given data values, waiting for it to be published."""
        return wait_until(lambda: self.of_type(event_type, **data), timeout, what=f"{event_type} {data}")[0]

    def close(self) -> None:
        """Close the connection (the queue goes with it)."""
        self.connection.close()


@contextmanager
def running_worker(spec: WorkerSpec, settings: Settings) -> Iterator[Worker]:
    """A service's worker (consumer, relay, periodic jobs) in a thread of the test process."""
    worker = Worker(spec, settings)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            worker.run()
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=run, name=f"{spec.service}-worker", daemon=True)
    thread.start()
    wait_until(
        lambda: worker.ready.is_set() or errors, timeout=30, what=f"the {spec.service} worker to start"
    )
    if errors:
        raise errors[0]
    try:
        yield worker
    finally:
        worker.request_stop()
        thread.join(timeout=15)
