"""SIGKILL each service's worker while it handles messages: they are redelivered, nothing changes."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.faults.conftest import SERVICES, FaultStack
from tests.support import wait_until

pytestmark = pytest.mark.faults
LOOPS = int(os.environ.get("CIVICLOOP_FAULT_KILL_LOOPS", "80"))


def worker_pid(stack: FaultStack, service: str) -> int:
    """The worker's process id, once supervisord reports it running."""
    answer = stack.ctl("pid", f"services:{service}-worker").strip()
    return int(answer) if answer.isdigit() and answer != "0" else 0


def in_flight(stack: FaultStack, service: str) -> int:
    """Messages the service's worker holds unacknowledged right now."""
    listing = stack.broker(
        "ctl", "1", "list_queues", "-p", stack.settings["RABBITMQ_VHOST"], "name", "messages_unacknowledged"
    )
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == f"{service}.events" and parts[1].isdigit():
            return int(parts[1])
    return 0


def redelivered(stack: FaultStack, service: str) -> float:
    """Redelivered messages the (restarted) worker has taken since it started."""
    port = stack.settings[f"{service.upper()}_WORKER_METRICS_PORT"]
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "civicloop_events_redelivered_total"
    )


def _quietly(read, *arguments) -> tuple[float] | None:
    try:
        return (read(*arguments),)
    except requests.ConnectionError:
        return None


def test_killed_workers_are_redelivered_their_messages_and_the_end_state_is_unchanged(
    single_node: FaultStack,
):
    stack = single_node
    driver = stack.driver
    queue = stack.open_capture("worker-kill")
    kills: list[dict] = []

    def kill_each_worker() -> None:
        for index, service in enumerate(SERVICES):
            # Spread over the stream, each while loops are at every stage.
            while driver.submitted < LOOPS * (index + 1) // 6:
                time.sleep(0.1)
            # Kill while it holds messages (the queue counts them as unacknowledged).
            deadline = time.monotonic() + 20
            held = in_flight(stack, service)
            while held == 0 and time.monotonic() < deadline:
                held = in_flight(stack, service)
            pid = worker_pid(stack, service)
            os.kill(pid, signal.SIGKILL)
            restarted = wait_until(
                lambda s=service, p=pid: (new := worker_pid(stack, s)) not in (0, p) and new,
                timeout=60,
                what=f"supervisord to restart the {service} worker",
            )
            kills.append({"service": service, "pid": pid, "new_pid": restarted, "held": held})

    killer = threading.Thread(target=kill_each_worker, daemon=True)
    started = time.monotonic()
    killer.start()
    loops = driver.run_many(LOOPS, "kill", concurrency=16)
    killer.join(timeout=120)
    assert len(kills) == len(SERVICES), f"not every worker was killed: {kills}"

    # A restarted worker serves its metrics once it is up again.
    redeliveries = {
        service: wait_until(
            lambda s=service: _quietly(redelivered, stack, s), timeout=30, what=f"{service} worker metrics"
        )[0]
        for service in SERVICES
    }
    counts, _ = stack.record(
        "worker-kill",
        loops,
        queue,
        started,
        held_at_kill="/".join(str(k["held"]) for k in kills),
        redelivered_after_kill=int(sum(redeliveries.values())),
    )
    assert counts.lost == 0 and counts.duplicates == 0, counts.line()
    assert counts.closed == counts.sent == LOOPS, counts.line()
    assert counts.notes["state_differs"] == 0, counts.line()
    # The messages a killed worker held came back to its successor.
    assert sum(redeliveries.values()) >= sum(1 for k in kills if k["held"] > 0) > 0, (kills, redeliveries)
