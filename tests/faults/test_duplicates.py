"""Every event published twice (a test-side shovel copies each one): the end state is the same."""

from __future__ import annotations

import contextlib
import json
import os
import random
import threading
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from services.common.publisher import ConfirmingPublisher
from services.common.topology import EVENTS_EXCHANGE
from tests.faults.conftest import SERVICES, FaultStack

pytestmark = pytest.mark.faults
LOOPS = int(os.environ.get("CIVICLOOP_FAULT_DUP_LOOPS", "80"))
SHOVEL_QUEUE = "faults.duplicator"


class Duplicator(threading.Thread):
    """Publishes a second copy of every event on the bus, 0–1.5 s later (so copies also arrive late)."""

    def __init__(self, stack: FaultStack) -> None:
        super().__init__(name="duplicator", daemon=True)
        self.stack = stack
        self.stopping = threading.Event()
        self.copied: set[str] = set()
        self.error: BaseException | None = None
        connection = stack.connect()
        channel = connection.channel()
        channel.queue_delete(SHOVEL_QUEUE)
        channel.queue_declare(
            SHOVEL_QUEUE, durable=True, auto_delete=False, arguments={"x-queue-type": "quorum"}
        )
        channel.queue_bind(SHOVEL_QUEUE, EVENTS_EXCHANGE.name, "#")
        connection.close()

    def run(self) -> None:
        try:
            self._shovel()
        except BaseException as error:
            self.error = error

    def _shovel(self) -> None:
        connection = self.stack.connect()
        channel = connection.channel()
        channel.basic_qos(0, 500, False)
        held: list[tuple[float, int, dict]] = []

        def take(message) -> None:
            held.append(
                (time.monotonic() + random.uniform(0, 1.5), message.delivery_tag, json.loads(message.body))
            )

        tag = channel.basic_consume(SHOVEL_QUEUE, callback=take)
        publisher = ConfirmingPublisher(self.stack.amqp_url)
        while not self.stopping.is_set() or held:
            with contextlib.suppress(TimeoutError):
                connection.drain_events(timeout=0.1)
            due = [item for item in held if item[0] <= time.monotonic()]
            if not due:
                continue
            # Our own copies come back through the queue too: each event is copied once.
            fresh = [envelope for _, _, envelope in due if envelope["id"] not in self.copied]
            confirmed = publisher.publish_batch(fresh)
            assert confirmed == {envelope["id"] for envelope in fresh}, "a copy was not confirmed"
            self.copied |= confirmed
            for item in due:
                channel.basic_ack(item[1])
                held.remove(item)
        publisher.close()
        channel.basic_cancel(tag)
        channel.queue_delete(SHOVEL_QUEUE)
        connection.close()


def duplicates_dropped(stack: FaultStack) -> float:
    """Deliveries the workers recognised as already handled (their inbox), over all services."""
    total = 0.0
    for service in SERVICES:
        port = stack.settings[f"{service.upper()}_WORKER_METRICS_PORT"]
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        total += sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "civicloop_events_consumed_total"
            and sample.labels.get("outcome") == "duplicate"
        )
    return total


def test_every_event_delivered_twice_ends_in_the_same_state(single_node: FaultStack):
    stack = single_node
    queue = stack.open_capture("duplicates")
    dropped_before = duplicates_dropped(stack)
    duplicator = Duplicator(stack)
    started = time.monotonic()
    duplicator.start()
    loops = stack.driver.run_many(LOOPS, "dup", concurrency=16)
    stack.settle([loop.request_id for loop in loops if loop.request_id])
    time.sleep(2)  # the last copies are published up to 1.5 s after their originals
    duplicator.stopping.set()
    duplicator.join(timeout=60)
    assert duplicator.error is None, repr(duplicator.error)

    dropped = duplicates_dropped(stack) - dropped_before
    counts, _ = stack.record(
        "duplicates",
        loops,
        queue,
        started,
        copies_published=len(duplicator.copied),
        dropped_by_inbox=int(dropped),
    )
    assert counts.lost == 0 and counts.duplicates == 0, counts.line()
    assert counts.closed == counts.sent == LOOPS, counts.line()
    assert counts.notes["state_differs"] == 0, counts.line()
    # Every event of these loops really went out twice, and the workers saw the copies.
    assert counts.redelivered >= counts.events // 2, counts.line()
    assert dropped > 0
