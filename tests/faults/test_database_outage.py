"""Stop one service's database server for 10 s under load: clear 503s, nothing half-written, all complete."""

from __future__ import annotations

import os
import threading
import time

import pytest
import requests

from tests.faults.conftest import FaultStack

pytestmark = pytest.mark.faults
LOOPS = int(os.environ.get("CIVICLOOP_FAULT_DB_LOOPS", "80"))
OUTAGE_SECONDS = 10
LATE_ORDERS = 4


def test_a_database_outage_answers_503_writes_nothing_and_every_order_completes(single_node: FaultStack):
    stack = single_node
    driver = stack.driver
    queue = stack.open_capture("database-outage")
    readiness: list[int] = []
    outage: dict[str, float] = {}
    web = f"http://127.0.0.1:{stack.settings['REQUESTS_WEB_PORT']}"

    late: list = []
    late_probe: list[str] = []

    def stop_the_requests_database() -> None:
        while driver.submitted < LOOPS // 3:
            time.sleep(0.1)
        outage["from"] = time.time()
        assert "stopped" in stack.ctl("stop", "infra:ferretdb-requests")
        # Residents who order during the outage (the stream's own threads are waiting on their
        # loops then): they meet the 503s, and their loops run once the database is back.
        for number in range(LATE_ORDERS):
            thread = threading.Thread(
                target=lambda n=number: late.append(driver.run_loop(n, "dbdown-late")), daemon=True
            )
            thread.start()
            late_threads.append(thread)
        back_at = time.monotonic() + OUTAGE_SECONDS
        try:
            time.sleep(OUTAGE_SECONDS / 2)
            # The web threads may all be busy with orders waiting on the database: ask until one
            # answer comes back while it is still away (a timeout is recorded, not fatal here).
            while not readiness and time.monotonic() < back_at - 1:
                try:
                    readiness.append(requests.get(f"{web}/readyz", timeout=4).status_code)
                except requests.RequestException as error:
                    late_probe.append(type(error).__name__)
            time.sleep(max(0.0, back_at - time.monotonic()))
        finally:
            assert "started" in stack.ctl("start", "infra:ferretdb-requests")
            outage["to"] = time.time()

    late_threads: list[threading.Thread] = []
    breaker = threading.Thread(target=stop_the_requests_database, daemon=True)
    started = time.monotonic()
    breaker.start()
    loops = driver.run_many(LOOPS, "dbdown", concurrency=16)
    breaker.join(timeout=60)
    for thread in late_threads:
        thread.join(timeout=300)
    loops += late

    during = [o for o in driver.outages if outage["from"] <= o.at <= outage["to"] + 5]
    refused_orders = [loop for loop in loops if 503 in loop.submit_statuses]
    counts, _ = stack.record(
        "database-outage",
        loops,
        queue,
        started,
        answers_503=sum(o.status == 503 for o in during),
        orders_refused_then_taken=len(refused_orders),
    )
    assert counts.lost == 0 and counts.duplicates == 0, counts.line()
    assert counts.closed == counts.sent == LOOPS + LATE_ORDERS, counts.line()
    assert counts.notes["state_differs"] == 0, counts.line()

    # Clear answers while the database was away: 503 problem+json saying what happened to the write.
    assert readiness == [503], f"/readyz during the outage: {readiness}, failed probes {late_probe}"
    answers = [o for o in during if o.status == 503]
    assert answers, "no call met the outage"
    for answer in answers:
        assert answer.content_type.startswith("application/problem+json"), answer
        assert answer.body["status"] == 503, answer
        detail = answer.body["detail"]
        assert "nothing was written" in detail or "may or may not" in detail, answer
    # Nothing half-written and nothing twice: an order refused with 503s was taken by a repeat with
    # its key (201, or 200 when a write the 503 could not confirm had landed), every stored request
    # is whole (its loop closed in the fault-free state above), and there is one request per key.
    assert refused_orders, "no order met the outage"
    for loop in refused_orders:
        assert loop.submit_statuses[-1] in (200, 201), loop.submit_statuses
    requests_db = stack.database("requests").requests
    stored = requests_db.count_documents({"resident_id": {"$regex": "^faults-dbdown"}})
    assert stored == LOOPS + LATE_ORDERS
