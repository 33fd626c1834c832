"""Restart RabbitMQ in the middle of a stream of full loops: every request closes exactly once."""

from __future__ import annotations

import os
import threading
import time

import pytest

from tests.faults.conftest import FaultStack

pytestmark = pytest.mark.faults
LOOPS = int(os.environ.get("CIVICLOOP_FAULT_LOOPS", "300"))


def test_broker_restart_mid_stream_loses_nothing_and_doubles_nothing(single_node: FaultStack):
    stack = single_node
    driver = stack.driver
    queue = stack.open_capture("broker-restart")
    outage: dict[str, float] = {}

    def restart_when_busy() -> None:
        # In the middle: a third of the orders are in, loops are at every stage.
        while driver.submitted < LOOPS // 3:
            time.sleep(0.2)
        outage["submitted_before"] = driver.submitted
        outage["down_at"] = time.monotonic()
        stack.broker("stop-node", "1")
        time.sleep(5)  # orders keep coming in; their events wait in the outboxes
        outage["submitted_while_down"] = driver.submitted - outage["submitted_before"]
        stack.broker("start-node", "1")
        outage["up_at"] = time.monotonic()

    restarter = threading.Thread(target=restart_when_busy, daemon=True)
    started = time.monotonic()
    restarter.start()
    loops = driver.run_many(LOOPS, "restart", concurrency=16)
    restarter.join(timeout=120)

    counts, _ = stack.record(
        "broker-restart",
        loops,
        queue,
        started,
        broker_down_s=round(outage["up_at"] - outage["down_at"], 1),
        orders_while_down=outage["submitted_while_down"],
    )
    assert counts.lost == 0 and counts.duplicates == 0, counts.line()
    assert counts.closed == counts.sent == LOOPS, counts.line()
    assert counts.notes["state_differs"] == 0, counts.line()
    assert outage["submitted_while_down"] > 0, "no order came in while the broker was down"
