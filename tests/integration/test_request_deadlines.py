"""Every HTTP request stops at its deadline: database calls and lease waits alike (docs/adr/0094)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from services.common import db
from services.common.ids import utcnow
from services.common.locks import DocumentLock
from services.requests import create_app
from tests.support import bearer, drop_database, integration_settings

RESIDENT = bearer("resident", "resident-deadline")
ORDER = {
    "category": "repairs",
    "title": "修门",
    "description": "门坏了",
    "township": "平湖镇",
    "village": "平湖村",
}


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never says a word: a hung database server."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=2)
        for connection in held:
            connection.close()
        listener.close()
        db.forget_unavailable()


def test_a_hung_database_answers_503_at_the_deadline_not_after_its_own_timeouts(silent_server):
    settings = integration_settings(
        "requests",
        mongo_url=f"mongodb://127.0.0.1:{silent_server}/it_deadline",
        db_timeout_ms=15_000,  # what pymongo alone would wait for, per call
        request_timeout_seconds=1.0,
        check_responses=True,
    )
    client = create_app(settings).test_client()
    started = time.monotonic()
    answer = client.post("/api/v1/requests", json=ORDER, headers=RESIDENT)
    elapsed = time.monotonic() - started
    assert answer.status_code == 503 and answer.mimetype == "application/problem+json"
    assert answer.headers["Retry-After"]
    assert elapsed < 3, f"the thread was held {elapsed:.1f} s for a 1 s deadline"


def test_a_request_waiting_for_a_held_document_gives_up_at_its_deadline_and_writes_nothing():
    settings = integration_settings("requests", request_timeout_seconds=1.5)
    drop_database(settings)
    client = create_app(settings).test_client()
    placed = client.post("/api/v1/requests", json=ORDER, headers=RESIDENT)
    assert placed.status_code == 201, placed.get_json()
    request_id = placed.get_json()["id"]
    # Another writer holds the order's lease (and would for a minute).
    DocumentLock._get_collection().insert_one(
        {"_id": f"requests:{request_id}", "lease": "other", "expires_at": utcnow() + timedelta(seconds=60)}
    )
    try:
        started = time.monotonic()
        answer = client.post(f"/api/v1/requests/{request_id}/cancel", json={}, headers=RESIDENT)
        elapsed = time.monotonic() - started
        assert answer.status_code == 503, answer.get_json()
        assert "ran out of time" in answer.get_json()["detail"]
        assert elapsed < 4, f"the thread was held {elapsed:.1f} s for a 1.5 s deadline"
        assert (
            client.get(f"/api/v1/requests/{request_id}", headers=RESIDENT).get_json()["status"] == "submitted"
        )
    finally:
        DocumentLock._get_collection().delete_one({"_id": f"requests:{request_id}", "lease": "other"})
    # Once the other writer is done, the same call goes through.
    cancelled = client.post(f"/api/v1/requests/{request_id}/cancel", json={}, headers=RESIDENT)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
