"""A poison message goes to the dead-letter queue after its retries; `dlq replay` delivers it once fixed."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
import requests

from civicloop.profiles import ROOT
from services import SERVICES
from services.common.publisher import ConfirmingPublisher
from tests.faults.conftest import FaultStack
from tests.faults.counts import count
from tests.faults.loops import SCORE, SKILL, TOWNSHIP
from tests.support import bearer, wait_until

pytestmark = pytest.mark.faults
CIVICLOOP = str(ROOT / ".venv" / "bin" / "civicloop")


def cli(stack: FaultStack, *arguments: str) -> str:
    """`civicloop ARGS --profile <the fault profile>`, as an operator would type it."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CIVICLOOP_")}
    done = subprocess.run(
        [CIVICLOOP, *arguments, "--profile", stack.name],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        check=True,
    )
    return done.stdout


def dead_letters(stack: FaultStack) -> dict[str, int]:
    """`civicloop dlq list`, parsed."""
    return {line.split()[0]: int(line.split()[1]) for line in cli(stack, "dlq", "list").splitlines()}


def dead_letter_gauge(stack: FaultStack, service: str) -> float:
    port = stack.settings[f"{service.upper()}_WORKER_METRICS_PORT"]
    for line in requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text.splitlines():
        if line.startswith("civicloop_dead_letters{"):
            return float(line.rsplit(" ", 1)[1])
    return -1


def test_a_poison_message_is_dead_lettered_after_retries_and_replayed_once_fixed(single_node: FaultStack):
    stack = single_node
    driver = stack.driver
    queue = stack.open_capture("poison")
    started = time.monotonic()
    assert dead_letters(stack) == dict.fromkeys(SERVICES, 0)

    resident = bearer("resident", "faults-poison-resident")
    body = {
        "category": SKILL,
        "title": "修水管",
        "description": "厨房水管漏水",
        "township": TOWNSHIP,
        "village": "东门社区",
    }
    request_id = driver.call("POST", "/api/v1/requests", resident, json=body).json()["id"]
    request_path = f"/api/v1/requests/{request_id}"

    def offered():
        attempts = (
            driver.call("GET", f"/api/v1/dispatch/{request_id}", driver.admin).json().get("attempts", [])
        )
        return attempts and attempts[-1]["status"] == "offered" and attempts[-1]

    attempt = wait_until(offered, timeout=60, what="the offer")
    volunteer = bearer("volunteer", attempt["volunteer_id"])
    task_path = f"/api/v1/tasks/{attempt['task_id']}"
    wait_until(lambda: driver.call("GET", task_path, volunteer).ok, timeout=60, what="the task")
    wait_until(
        lambda: (
            "task.offered"
            in [s["kind"] for s in driver.call("GET", request_path, resident).json()["timeline"]]
        ),
        timeout=60,
        what="the offer on the request's timeline",
    )

    # The fault: the requests database lost this request (say, restored from an older backup), so
    # the handler of the next event about it fails every time. A poison message, through no fault of its own.
    requests_db = stack.database("requests").requests
    saved = requests_db.find_one({"_id": request_id})
    requests_db.delete_one({"_id": request_id})
    assert driver.call("POST", f"{task_path}/accept", volunteer).status_code == 200

    wait_until(lambda: dead_letters(stack)["requests"] == 1, timeout=60, what="the dead letter")
    [letter] = [json.loads(line) for line in cli(stack, "dlq", "show", "requests").splitlines()]
    assert letter["event"]["type"] == "task.accepted" and letter["event"]["data"]["request_id"] == request_id
    assert "UnknownRequest" in letter["error"] and letter["attempts"] == 3, letter
    wait_until(lambda: dead_letter_gauge(stack, "requests") == 1, timeout=30, what="the dead-letter gauge")

    # The fix: the document is restored; the operator replays the dead letter.
    requests_db.insert_one(saved)
    assert "replayed 1 message(s)" in cli(stack, "dlq", "replay", "requests")
    wait_until(
        lambda: driver.call("GET", request_path, resident).json()["status"] == "accepted",
        timeout=60,
        what="the replayed acceptance",
    )
    code = {"code": driver.service_code(request_id, resident)}
    for step in ("check-in", "check-out"):
        assert driver.call("POST", f"{task_path}/{step}", volunteer, json=code).status_code == 200
    wait_until(
        lambda: driver.call("GET", f"/api/v1/ratings/{request_id}", resident).ok, timeout=60, what="slot"
    )
    rated = driver.call("POST", "/api/v1/ratings", resident, json={"request_id": request_id, "score": SCORE})
    assert rated.status_code == 201, rated.text
    wait_until(
        lambda: driver.call("GET", request_path, resident).json()["status"] == "closed",
        timeout=60,
        what="closed",
    )
    timeline = [s["kind"] for s in driver.call("GET", request_path, resident).json()["timeline"]]
    assert timeline.count("task.accepted") == 1 and timeline.count("request.closed") == 1, timeline

    # Garbage (not an event at all) is dead-lettered at once, without retries, and can be purged.
    publisher = ConfirmingPublisher(stack.amqp_url)
    garbage = {"id": "not-an-event", "type": "task.accepted", "version": 1, "data": {"nonsense": True}}
    assert publisher.publish_batch([garbage]) == {"not-an-event"}
    publisher.close()
    wait_until(lambda: dead_letters(stack)["requests"] == 1, timeout=30, what="the garbage's dead letter")
    assert "purged 1 message(s)" in cli(stack, "dlq", "purge", "requests", "--yes")
    # Every other consumer of task.accepted (dispatch, and the accounts service's notifier) has a copy.
    for service in ("dispatch", "accounts"):
        wait_until(
            lambda service=service: dead_letters(stack)[service] == 1,
            timeout=30,
            what=f"{service}'s copy of the garbage",
        )
        cli(stack, "dlq", "purge", service, "--yes")
    assert dead_letters(stack) == dict.fromkeys(SERVICES, 0)

    stack.settle([request_id])
    counts, states = count("poison", stack.databases(), [request_id], stack.drain_capture(queue))
    counts.seconds = time.monotonic() - started
    counts.notes.update(dead_lettered=1, replayed=1, state_differs=int(states[request_id] != stack.baseline))
    print("\n" + counts.line())
    stack.rows.append(counts)
    stack.write_results()
    assert counts.closed == counts.sent == 1 and counts.duplicates == 0 and counts.lost == 0, counts.line()
    assert counts.notes["state_differs"] == 0, states[request_id]
