"""A service's worker process: its event consumer, its outbox relay and its periodic jobs."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import FrameType

import mongoengine
from kombu import Connection
from prometheus_client import start_http_server

from services.common import clock, db, inbox, locks, personal, rollups, shelves, store, sweeps
from services.common.consumer import EventConsumer, HandlerMap
from services.common.logs import configure_logging, get_logger
from services.common.metrics import DEAD_LETTERS, DEPENDENCY_UP
from services.common.outbox import OutboxRelay
from services.common.publisher import ConfirmingPublisher
from services.common.settings import Settings
from services.common.store import AggregateDocument
from services.common.topology import dead_queue_name

log = get_logger(__name__)
# Documents every service's database holds besides its own.
COMMON_DOCUMENTS: tuple[type[mongoengine.Document], ...] = (
    inbox.ProcessedEvent,
    locks.DocumentLock,
    sweeps.SweepCursor,
    rollups.RollupDocument,
    shelves.ShelfCounter,
)


# The periodic loop's tick: no job runs more often than this, whatever the clock's speed.
PERIODIC_TICK_SECONDS = 0.2


@dataclass
class PeriodicJob:
    """Something a worker does every `every_seconds` (deadline sweeps, gauges).

    A job that `follows_clock` (a sweep of deadlines or schedules) counts its period in business
    time, so a simulation running faster sweeps as often, in simulated minutes, as the real county.
    """

    name: str
    every_seconds: float
    run: Callable[[], object]
    follows_clock: bool = False

    @property
    def period_seconds(self) -> float:
        """Real seconds between two runs."""
        seconds = self.every_seconds / clock.speed() if self.follows_clock else self.every_seconds
        return max(seconds, PERIODIC_TICK_SECONDS)


@dataclass
class WorkerSpec:
    """What a service puts into its worker process."""

    service: str
    handlers: HandlerMap
    outbox_documents: Sequence[type[AggregateDocument]]
    other_documents: Sequence[type[mongoengine.Document]] = ()
    periodic: Sequence[PeriodicJob] = field(default_factory=list)
    # A service that stores personal fields sealed (docs/adr/0095): its worker refuses to start
    # without keys (outside local profiles) rather than fail at the first resident's event.
    seals_personal_data: bool = False

    @property
    def documents(self) -> list[type[mongoengine.Document]]:
        """Every document kind the service stores, common's inbox and leases included."""
        return [*self.outbox_documents, *self.other_documents, *COMMON_DOCUMENTS]


def broker_connection(settings: Settings) -> Connection:
    """A kombu connection with heartbeats and publisher confirms on every publish."""
    return Connection(
        settings.amqp_url,
        heartbeat=settings.amqp_heartbeat,
        connect_timeout=5,
        transport_options={"confirm_publish": True, "max_retries": None},
    )


class Worker:
    """Runs a `WorkerSpec` until SIGTERM or SIGINT."""

    def __init__(self, spec: WorkerSpec, settings: Settings) -> None:
        self.spec = spec
        self.settings = settings
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.consumer: EventConsumer | None = None

    def run(self, metrics_port: int | None = None, metrics_host: str = "127.0.0.1") -> None:
        """Start everything and block until stopped."""
        configure_logging(self.spec.service, "worker", self.settings.log_level)
        if self.spec.seals_personal_data:
            personal.require_keys(self.settings)
        personal.configure(self.settings)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)
        if metrics_port:
            start_http_server(metrics_port, addr=metrics_host)
        db.connect_database(self.settings)
        self._wait_for_database()
        db.ensure_indexes(*self.spec.documents, settings=self.settings)

        connection = broker_connection(self.settings)
        self.consumer = EventConsumer(connection, self.spec.service, self.spec.handlers, self.settings)
        connection.ensure_connection(errback=self._broker_errback, max_retries=None, interval_max=5)
        self.consumer.declare_topology()

        relay = OutboxRelay(
            self.spec.service,
            self.spec.outbox_documents,
            ConfirmingPublisher(
                self.settings.amqp_url,
                heartbeat=self.settings.amqp_heartbeat,
                confirm_timeout=self.settings.confirm_timeout_seconds,
            ),
            batch_size=self.settings.outbox_batch,
            poll_seconds=self.settings.outbox_poll_seconds,
        )
        jobs = [
            PeriodicJob("dead-letter-gauge", 10, self._measure_dead_letters),
            PeriodicJob(
                "inbox-purge", 600, lambda: inbox.purge_older_than(self.settings.inbox_retention_hours)
            ),
            PeriodicJob("lease-sweep", 60, locks.sweep_expired),
            # Rollups left pending: a flag an index holds few `true` rows of. New documents of stores
            # that leave them for later (ADR 0064) every second, so figures trail those writes by
            # about that; elsewhere only a crashed writer leaves any, and every 10 s finds them.
            PeriodicJob(
                "rollups-settle-new", 1, lambda: store.settle_pending(self.spec.documents, inserts_later=True)
            ),
            PeriodicJob(
                "rollups-settle", 10, lambda: store.settle_pending(self.spec.documents, inserts_later=False)
            ),
            *self.spec.periodic,
        ]
        threads = [
            threading.Thread(target=relay.run, args=(self.stop,), name="outbox-relay", daemon=True),
            threading.Thread(target=self._run_periodic, args=(jobs,), name="periodic", daemon=True),
        ]
        for thread in threads:
            thread.start()
        log.info("worker.started", handlers=sorted(self.consumer.routing_keys))
        self.ready.set()
        try:
            self.consumer.run()
        finally:
            self.stop.set()
            for thread in threads:
                thread.join(timeout=10)
            log.info("worker.stopped")

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("worker.stopping", signal=signum)
        self.request_stop()

    def request_stop(self) -> None:
        """Finish the message in hand, then stop consuming, relaying and sweeping."""
        self.stop.set()
        if self.consumer is not None:
            self.consumer.should_stop = True

    def _broker_errback(self, error: BaseException, interval: float) -> None:
        DEPENDENCY_UP.labels(self.spec.service, "broker").set(0)
        log.warning("bus.unavailable", error=str(error), retry_in=interval)
        if self.stop.is_set():
            raise SystemExit(0)

    def _wait_for_database(self) -> None:
        wait = 0.5
        while not self.stop.is_set():
            try:
                db.ping()
                DEPENDENCY_UP.labels(self.spec.service, "database").set(1)
                return
            except db.DatabaseUnavailable as error:
                DEPENDENCY_UP.labels(self.spec.service, "database").set(0)
                log.warning("database.unavailable", error=str(error)[:200], retry_in=wait)
                self.stop.wait(wait)
                wait = min(wait * 2, 5)
        raise SystemExit(0)

    def _measure_dead_letters(self) -> None:
        with broker_connection(self.settings) as connection, connection.channel() as channel:
            _, count, _ = channel.queue_declare(dead_queue_name(self.spec.service), passive=True)
            DEAD_LETTERS.labels(self.spec.service).set(count)

    def _run_periodic(self, jobs: Sequence[PeriodicJob]) -> None:
        last_run = {job.name: 0.0 for job in jobs}
        while not self.stop.is_set():
            for job in jobs:
                if time.monotonic() - last_run[job.name] < job.period_seconds:
                    continue
                last_run[job.name] = time.monotonic()
                try:
                    job.run()
                except Exception as error:
                    log.warning("periodic.failed", job=job.name, error=repr(error)[:300])
            self.stop.wait(PERIODIC_TICK_SECONDS)
