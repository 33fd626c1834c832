"""The fault suite's stack: a whole platform of its own, on RabbitMQ nodes of its own.

It never touches the shared broker on 5672 nor the test profile's stack: the profile is derived
(tests/faults/profile.py), the broker is one node (or a three-node cluster for the cluster test)
started by deploy/local/rabbitmq-cluster.sh, and everything is stopped at the end, failed or not.
Each test prints `sent=… closed=… duplicates=… lost=…`; the rows go to bench-results/faults.json.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import amqp
import pytest
from pymongo import MongoClient
from pymongo.database import Database

from civicloop.profiles import ROOT
from services import SERVICES
from services.common.publisher import connect_any
from services.common.topology import EVENTS_EXCHANGE
from tests.faults.counts import Counts, count, differences
from tests.faults.loops import Driver, Loop
from tests.faults.profile import write_fault_profile
from tests.support import TEST_PROFILE, wait_until

STACK = ROOT / "deploy" / "local" / "stack.sh"
NODES = ROOT / "deploy" / "local" / "rabbitmq-cluster.sh"
RESULTS = ROOT / "bench-results" / "faults.json"
VOLUNTEERS = 40


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The cluster test last: it replaces the single broker node with a cluster."""
    items.sort(key=lambda item: item.get_closest_marker("cluster") is not None)


SESSION_ROWS: list[Counts] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The closing note's table, also when output is captured (CI logs show it)."""
    if not SESSION_ROWS:
        return
    terminalreporter.section("faults: sent / closed / duplicates / lost")
    for row in SESSION_ROWS:
        terminalreporter.write_line(row.line())
    terminalreporter.write_line(f"(rows in {RESULTS.relative_to(ROOT)})")


class FaultStack:
    """The derived profile's stack; `use(nodes)` (re)starts it on that many broker nodes."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.name = ""
        self.settings: dict[str, str] = {}
        self.nodes = 0
        self.driver: Driver | None = None
        self.volunteers: list[str] = []
        self.baseline: dict[str, Any] | None = None
        self._clients: dict[str, MongoClient] = {}
        self.started = time.monotonic()
        self.rows = SESSION_ROWS

    # -- processes --------------------------------------------------------------------------------
    def script(self, script: Any, *arguments: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run one of the project's scripts against the fault profile."""
        done = subprocess.run(
            [str(script), *arguments], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
        )
        if check and done.returncode != 0:
            raise AssertionError(f"{script.name} {' '.join(arguments)} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def stack(self, command: str, *arguments: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.script(STACK, command, self.name, *arguments, check=check)

    def ctl(self, *arguments: str) -> str:
        """supervisorctl of the fault stack."""
        return self.stack("ctl", *arguments, check=False).stdout

    def broker(self, command: str, *arguments: str) -> str:
        """rabbitmq-cluster.sh COMMAND PROFILE ARGS (start-node, stop-node, ctl, ...)."""
        return self.script(NODES, command, self.name, *arguments).stdout

    def use(self, nodes: int) -> None:
        """A fresh stack (empty databases, new broker nodes) on `nodes` RabbitMQ nodes."""
        if self.nodes == nodes:
            return
        self.stop()
        self.name, self.settings = write_fault_profile(self.base, nodes)
        self.script(NODES, "reset", self.name)  # new nodes, no queues or cluster of a former run
        self.stack("infra")
        self.nodes = nodes
        self.stack("ctl", "stop", "services:*", "gateway", check=False)
        for service in SERVICES:
            self.client(service).drop_database(self.database(service).name)
        self.stack("up")
        self.driver = Driver(f"http://127.0.0.1:{self.settings['GATEWAY_PORT']}")
        self.volunteers = self.driver.register_volunteers(VOLUNTEERS)

    def stop(self) -> None:
        """Stop the stack and its broker nodes (safe to call twice)."""
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        if self.name:
            self.stack("down", check=False)
            self.script(NODES, "stop", self.name, check=False)
        self.nodes = 0

    # -- stores and bus ---------------------------------------------------------------------------
    def client(self, service: str) -> MongoClient:
        if service not in self._clients:
            port = self.settings[f"{service.upper()}_DB_PORT"]
            self._clients[service] = MongoClient(
                f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=5000, tz_aware=True
            )
        return self._clients[service]

    def database(self, service: str) -> Database:
        return self.client(service)[f"{self.settings['CIVICLOOP_DB_PREFIX']}_{service}"]

    def databases(self) -> dict[str, Database]:
        return {service: self.database(service) for service in SERVICES}

    @property
    def amqp_url(self) -> str:
        return self.settings["CIVICLOOP_AMQP_URL"]

    def connect(self) -> amqp.Connection:
        connection, _ = connect_any(self.amqp_url, connect_timeout=5)
        return connection

    def open_capture(self, name: str) -> str:
        """A durable quorum queue bound to every event: it outlives broker restarts and node loss."""
        queue = f"faults.capture.{name}"
        connection = self.connect()
        try:
            channel = connection.channel()
            channel.exchange_declare(EVENTS_EXCHANGE.name, "topic", durable=True, auto_delete=False)
            channel.queue_delete(queue)
            channel.queue_declare(
                queue, durable=True, auto_delete=False, arguments={"x-queue-type": "quorum"}
            )
            channel.queue_bind(queue, EVENTS_EXCHANGE.name, "#")
        finally:
            connection.close()
        return queue

    def drain_capture(self, queue: str) -> list[dict[str, Any]]:
        """Every envelope the capture queue holds; the queue is deleted afterwards."""
        envelopes: list[dict[str, Any]] = []
        connection = self.connect()
        try:
            channel = connection.channel()
            channel.basic_qos(0, 500, False)
            tag = channel.basic_consume(
                queue, callback=lambda m: envelopes.append(json.loads(m.body)), no_ack=True
            )
            idle = 0
            while idle < 3:
                before = len(envelopes)
                with contextlib.suppress(TimeoutError):
                    connection.drain_events(timeout=0.5)
                idle = idle + 1 if len(envelopes) == before else 0
            channel.basic_cancel(tag)
            channel.queue_delete(queue)
        finally:
            connection.close()
        return envelopes

    # -- a stream of loops with a fault in the middle -----------------------------------------------
    def settle(self, request_ids: list[str], timeout: float = 60) -> None:
        """Wait until no outbox holds events of these requests (late effects have landed)."""
        databases = self.databases()

        def quiet() -> bool:
            return all(
                databases[service][collection].count_documents({"outbox_pending": True}) == 0
                for service, collection in (
                    ("requests", "requests"),
                    ("dispatch", "jobs"),
                    ("volunteers", "tasks"),
                    ("ratings", "ratings"),
                )
            )

        wait_until(quiet, timeout=timeout, interval=0.5, what="every outbox to empty")
        time.sleep(2)  # the last consumed events (task scores, read-models) land after their publish

    def record(
        self, test: str, loops: list[Loop], queue: str, started: float, **notes: Any
    ) -> tuple[Counts, dict[str, dict[str, Any]]]:
        """Count a finished stream, print the line and keep the row for bench-results/faults.json."""
        request_ids = [loop.request_id for loop in loops if loop.request_id]
        self.settle(request_ids)
        counts, states = count(
            test, self.databases(), request_ids, self.drain_capture(queue), seconds=time.monotonic() - started
        )
        # An order that never got in (no request id) counts as sent and lost too.
        counts.sent = len(loops)
        counts.lost += len(loops) - len(request_ids)
        errors = [loop.error for loop in loops if loop.error]
        if errors:
            counts.notes["loop_errors"] = len(errors)
            counts.notes["first_error"] = errors[0][:160]
        if self.baseline is not None:
            counts.notes["state_differs"] = len(differences(states, self.baseline))
        counts.notes.update(notes)
        print("\n" + counts.line())
        self.rows.append(counts)
        self.write_results()
        return counts, states

    def write_results(self) -> None:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(
            json.dumps(
                {
                    "profile": self.base,
                    "suite_seconds": round(time.monotonic() - self.started, 1),
                    "rows": [row.as_dict() for row in self.rows],
                },
                ensure_ascii=False,
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )


@pytest.fixture(scope="session")
def fault_stack() -> Iterator[FaultStack]:
    """The fault stack, stopped at the end of the session whatever happened."""
    if os.geteuid() != 0:
        # Its RabbitMQ nodes and PostgreSQL run as their own users, which takes root (as in CI).
        pytest.skip("the fault suite starts broker nodes of its own and needs root for that")
    stack = FaultStack(TEST_PROFILE)
    try:
        yield stack
    finally:
        # CIVICLOOP_FAULTS_KEEP=1 leaves it running to look at (stack.sh down PROFILE stops it).
        if os.environ.get("CIVICLOOP_FAULTS_KEEP") != "1":
            stack.stop()
        stack.write_results()


@pytest.fixture()
def single_node(fault_stack: FaultStack) -> FaultStack:
    """The stack on one RabbitMQ node of its own, with the fault-free run's state as the baseline."""
    fault_stack.use(1)
    if fault_stack.baseline is None:
        queue = fault_stack.open_capture("baseline")
        started = time.monotonic()
        assert fault_stack.driver is not None
        loops = fault_stack.driver.run_many(12, "baseline", concurrency=6)
        counts, states = fault_stack.record("baseline", loops, queue, started)
        assert counts.closed == counts.sent == 12 and counts.duplicates == 0, counts.line()
        distinct = {json.dumps(state, sort_keys=True, default=str) for state in states.values()}
        assert len(distinct) == 1, f"fault-free loops ended differently: {distinct}"
        fault_stack.baseline = next(iter(states.values()))
    return fault_stack
