"""A three-node RabbitMQ cluster with quorum queues: stop one node mid-stream, nothing is lost."""

from __future__ import annotations

import os
import threading
import time

import pytest

from tests.faults.conftest import SERVICES, FaultStack

pytestmark = [pytest.mark.faults, pytest.mark.cluster]
LOOPS = int(os.environ.get("CIVICLOOP_FAULT_CLUSTER_LOOPS", "150"))


def test_stopping_a_cluster_node_mid_stream_loses_nothing(fault_stack: FaultStack):
    stack = fault_stack
    stack.use(3)
    stack.baseline = None  # a new stack: its own fault-free reference is the loops before the stop
    listing = stack.broker(
        "ctl", "1", "list_queues", "-p", stack.settings["RABBITMQ_VHOST"], "name", "type", "members"
    )
    for service in SERVICES:
        line = next(line for line in listing.splitlines() if line.startswith(f"{service}.events"))
        assert "quorum" in line and line.count("@") == 3, line

    driver = stack.driver
    queue = stack.open_capture("cluster")
    outage: dict[str, float] = {}

    def stop_the_first_node() -> None:
        # Node 1 is first in every client's list and led the queues it declared: the hard case.
        while driver.submitted < LOOPS // 3:
            time.sleep(0.2)
        outage["submitted_before"] = driver.submitted
        stack.broker("stop-node", "1")
        outage["stopped_at"] = time.monotonic()
        # A worker that starts while the node is down declares its queues on the others and consumes.
        time.sleep(3)
        outage["worker_restart"] = stack.ctl("restart", "services:ratings-worker")

    stopper = threading.Thread(target=stop_the_first_node, daemon=True)
    started = time.monotonic()
    stopper.start()
    loops = driver.run_many(LOOPS, "cluster", concurrency=16)
    stopper.join(timeout=60)

    counts, states = stack.record(
        "cluster-node-stop",
        loops,
        queue,
        started,
        orders_after_stop=driver.submitted - outage["submitted_before"],
    )
    assert "started" in outage["worker_restart"], outage
    assert counts.lost == 0 and counts.duplicates == 0, counts.line()
    assert counts.closed == counts.sent == LOOPS, counts.line()
    distinct = {repr(state) for state in states.values()}
    assert len(distinct) == 1, f"loops ended differently: {distinct}"
