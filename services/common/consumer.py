"""Consuming a service's queue: one handler call per event, acked only after its write landed.

Outcomes of a delivery:
- not an event of the catalogue → straight to the dead-letter queue;
- seen before (inbox) → acked, nothing done;
- handler succeeds → inbox remembers the id, then ack;
- database away → wait and try again, holding the message (it is not the message's fault);
- handler raises → a copy goes to the next retry queue (back-off), or after the last retry to the
  dead-letter queue, and the original is acked once that copy is confirmed.

Deliveries that arrive together (up to the prefetch) are handled as a batch, in arrival order: the
inbox is asked about all of them at once, the handlers run one after the other, the inbox remembers
the handled ones in one insert, then each is acked (docs/adr/0063).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from kombu import Connection, Consumer, Message
from kombu.mixins import ConsumerProducerMixin
from pydantic import BaseModel
from pymongo.errors import OperationFailure

from services.common import inbox
from services.common.db import DatabaseUnavailable, backend_unavailable
from services.common.events import Envelope, InvalidEvent, parse_event, routing_key
from services.common.logs import bound_context, get_logger
from services.common.metrics import DEPENDENCY_UP, EVENTS_CONSUMED, EVENTS_REDELIVERED, HANDLER_SECONDS
from services.common.settings import Settings
from services.common.topology import (
    ATTEMPT_HEADER,
    DEAD_EXCHANGE,
    ERROR_HEADER,
    RETRY_EXCHANGE,
    ROUTING_KEY_HEADER,
    main_queue,
    retry_queue_name,
    service_queues,
)

log = get_logger(__name__)

Handler = Callable[[Envelope, Any], None]
HandlerMap = Mapping[tuple[str, int], Handler]

# A batch is handled once no further delivery arrives within this gap (or the prefetch is full).
BATCH_GAP_SECONDS = 0.002
# Inbox lookups of a batch in flight at once: the wire server takes one id per lookup (an `$in`
# scans the whole table), so they go side by side instead of one after the other.
INBOX_THREADS = 4


def combine_handlers(*maps: HandlerMap) -> HandlerMap:
    """One map from the maps of a service's features; an event several consume runs each in turn."""
    # Every handler is idempotent, so a retry after a later one failed may safely run them all again.
    combined: dict[tuple[str, int], list[Handler]] = {}
    for handlers in maps:
        for key, handler in handlers.items():
            combined.setdefault(key, []).append(handler)
    return {key: found[0] if len(found) == 1 else _in_turn(found) for key, found in combined.items()}


def _in_turn(handlers: list[Handler]) -> Handler:
    def handle(envelope: Envelope, data: Any) -> None:
        for handler in handlers:
            handler(envelope, data)

    return handle


class EventConsumer(ConsumerProducerMixin):
    """Runs a service's event handlers over its queue until told to stop."""

    def __init__(
        self, connection: Connection, service: str, handlers: HandlerMap, settings: Settings
    ) -> None:
        self.connection = connection
        self.service = service
        self.handlers = dict(handlers)
        self.settings = settings
        self.retry_delays = list(settings.retry_delays)
        self._batch: list[tuple[Message, Envelope, BaseModel]] = []
        self._inbox = ThreadPoolExecutor(INBOX_THREADS, thread_name_prefix=f"{service}-inbox")

    @property
    def routing_keys(self) -> list[str]:
        """The keys this service's queue is bound to: exactly the events it has handlers for."""
        return [routing_key(event_type, version) for event_type, version in self.handlers]

    def declare_topology(self) -> None:
        """Declare exchanges, the service's queues and their bindings (idempotent).

        The main queue must be declared; a dead-letter or retry queue that cannot be (its home node
        is down, or an older deployment declared it with other arguments) is reported and left as it
        is, so that a worker still starts and consumes.
        """
        main, *others = service_queues(
            self.service, self.routing_keys, self.settings.delivery_limit, len(self.retry_delays)
        )
        with self.connection.channel() as channel:
            main.bind(channel).declare()
        for queue in others:
            try:
                with self.connection.channel() as channel:
                    queue.bind(channel).declare()
            except self.connection.channel_errors as error:
                log.warning("bus.queue_not_declared", queue=queue.name, error=str(error)[:300])

    def get_consumers(self, consumer_class: type[Consumer], channel: Any) -> list[Consumer]:
        queue = main_queue(self.service, self.routing_keys, self.settings.delivery_limit)
        return [
            consumer_class(
                queues=[queue],
                callbacks=[self.on_message],
                accept=["json"],
                prefetch_count=self.settings.amqp_prefetch,
            )
        ]

    def on_connection_revived(self) -> None:
        log.info("bus.connected", queue=f"{self.service}.events")
        DEPENDENCY_UP.labels(self.service, "broker").set(1)

    def on_connection_error(self, exc: BaseException, interval: float) -> None:
        log.warning("bus.connection_lost", error=str(exc), retry_in=interval)
        DEPENDENCY_UP.labels(self.service, "broker").set(0)

    # -- the loop ----------------------------------------------------------------------------------
    def consume(
        self,
        limit: int | None = None,
        timeout: float | None = None,
        safety_interval: float = 1,
        **kwargs: Any,
    ) -> Iterator[None]:
        """kombu's consume loop, except that held deliveries are handled once none follows at once."""
        elapsed = 0.0
        try:
            with self.consumer_context(**kwargs) as (connection, _channel, _consumers):
                for _ in range(limit) if limit else itertools.count():
                    if self.should_stop:
                        break
                    self.on_iteration()
                    try:
                        connection.drain_events(timeout=BATCH_GAP_SECONDS if self._batch else safety_interval)
                    except TimeoutError:
                        connection.heartbeat_check()
                        if self._batch:
                            self.handle_batch()
                            continue
                        elapsed += safety_interval
                        if timeout and elapsed >= timeout:
                            raise
                    except OSError:
                        if not self.should_stop:
                            raise
                    else:
                        yield
                        elapsed = 0
                # Asked to stop: finish the deliveries in hand rather than leave them to a redelivery.
                self.handle_batch()
        finally:
            # Left by an error: unacked on a channel that is gone, so the broker delivers them again.
            self._batch.clear()

    # -- deliveries ----------------------------------------------------------------------------------
    def on_message(self, _body: Any, message: Message) -> None:
        if message.delivery_info.get("redelivered"):
            EVENTS_REDELIVERED.labels(self.service).inc()
        try:
            envelope, data = parse_event(message.body)
        except InvalidEvent as error:
            log.error("event.invalid", error=str(error))
            self._dead_letter(message, str(error), "invalid")
            return
        self._batch.append((message, envelope, data))
        # The broker sends no more than the prefetch unacknowledged: a full batch waits for nothing.
        if len(self._batch) >= self.settings.amqp_prefetch:
            self.handle_batch()

    def handle_batch(self) -> None:
        """Handle the deliveries held, in arrival order; ack each once its inbox record landed."""
        batch, self._batch = self._batch, []
        known = [(m, e, d) for m, e, d in batch if (e.type, e.version) in self.handlers]
        for message, envelope, _data in batch:
            if (envelope.type, envelope.version) not in self.handlers:  # bound once, no longer handled
                message.ack()
                EVENTS_CONSUMED.labels(self.service, envelope.type, "ignored").inc()
        if not known:
            return
        seen = self._with_database(lambda: self._handled_before([e.id for _, e, _ in known]))
        handled: list[tuple[Message, Envelope, float]] = []
        repeats: list[tuple[Message, Envelope]] = []
        for message, envelope, data in known:
            if envelope.id in seen:
                repeats.append((message, envelope))
                continue
            with bound_context(
                event_id=envelope.id, event_type=envelope.type, correlation_id=envelope.correlation_id
            ):
                seconds = self._handle(message, envelope, data)
            if seconds is not None:
                handled.append((message, envelope, seconds))
                # A second copy in the same batch is a repeat of this one.
                seen.add(envelope.id)
        self._with_database(lambda: self._remember([envelope for _, envelope, _ in handled]))
        for message, envelope, seconds in handled:
            message.ack()
            EVENTS_CONSUMED.labels(self.service, envelope.type, "handled").inc()
            with bound_context(
                event_id=envelope.id, event_type=envelope.type, correlation_id=envelope.correlation_id
            ):
                log.info("event.handled", seconds=round(seconds, 4))
        # Acked after the records: a repeat of an event handled in this batch waits for its record.
        for message, envelope in repeats:
            message.ack()
            EVENTS_CONSUMED.labels(self.service, envelope.type, "duplicate").inc()
            with bound_context(
                event_id=envelope.id, event_type=envelope.type, correlation_id=envelope.correlation_id
            ):
                log.info("event.duplicate")

    def _handle(self, message: Message, envelope: Envelope, data: BaseModel) -> float | None:
        """Run the handler; its seconds, or None when it failed (the message went to a retry queue)."""
        handler = self.handlers[(envelope.type, envelope.version)]
        started = time.perf_counter()
        try:
            self._with_database(lambda: handler(envelope, data))
        except Exception as error:
            log.exception("event.handler_failed")
            self._retry_or_dead_letter(message, envelope, error)
            return None
        seconds = time.perf_counter() - started
        HANDLER_SECONDS.labels(self.service, envelope.type).observe(seconds)
        return seconds

    def _handled_before(self, event_ids: list[str]) -> set[str]:
        """Which of these event ids the inbox holds (one lookup each, side by side)."""
        unique = list(dict.fromkeys(event_ids))
        return {
            event_id
            for event_id, seen in zip(unique, self._side_by_side(inbox.already_handled, unique), strict=True)
            if seen
        }

    @staticmethod
    def _remember(envelopes: list[Envelope]) -> None:
        """Record the handled events in the inbox, one insert for the batch."""
        if envelopes:
            inbox.remember_all([(envelope.id, envelope.type) for envelope in envelopes])

    def _side_by_side(self, work: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        """`work` over `items` on the inbox threads; all finish before the first error is raised."""
        if len(items) <= 1:
            return [work(item) for item in items]
        futures = [self._inbox.submit(work, item) for item in items]
        wait(futures)
        return [future.result() for future in futures]

    def _with_database(self, work: Callable[[], Any]) -> Any:
        """Run `work`, waiting out a database outage while keeping the broker connection alive."""
        wait = 0.25
        while True:
            try:
                result = work()
                DEPENDENCY_UP.labels(self.service, "database").set(1)
                return result
            except (DatabaseUnavailable, OperationFailure) as error:
                # A storage outage behind the server is waited out too; any other failure is the handler's.
                if not backend_unavailable(error):
                    raise
                DEPENDENCY_UP.labels(self.service, "database").set(0)
                if self.should_stop:
                    raise
                log.warning("database.unavailable", error=str(error)[:200], retry_in=wait)
                deadline = time.monotonic() + wait
                while time.monotonic() < deadline:
                    self.connection.heartbeat_check()
                    time.sleep(min(0.25, wait))
                wait = min(wait * 2, 5.0)

    def _retry_or_dead_letter(self, message: Message, envelope: Envelope, error: Exception) -> None:
        headers = dict(message.headers or {})
        attempt = int(headers.get(ATTEMPT_HEADER, 0)) + 1
        reason = f"{type(error).__name__}: {error}"[:500]
        if attempt > len(self.retry_delays):
            self._dead_letter(message, reason, envelope.type)
            return
        headers.update(
            {ATTEMPT_HEADER: attempt, ERROR_HEADER: reason, ROUTING_KEY_HEADER: envelope.routing_key}
        )
        self._republish(
            message,
            exchange=RETRY_EXCHANGE,
            routing_key=retry_queue_name(self.service, attempt),
            headers=headers,
            expiration=self.retry_delays[attempt - 1],
        )
        message.ack()
        EVENTS_CONSUMED.labels(self.service, envelope.type, "retried").inc()
        log.warning("event.retry_scheduled", attempt=attempt, delay=self.retry_delays[attempt - 1])

    def _dead_letter(self, message: Message, reason: str, event_type: str) -> None:
        headers = dict(message.headers or {})
        headers[ERROR_HEADER] = reason[:500]
        headers.setdefault(ROUTING_KEY_HEADER, message.delivery_info.get("routing_key", ""))
        self._republish(message, exchange=DEAD_EXCHANGE, routing_key=self.service, headers=headers)
        message.ack()
        EVENTS_CONSUMED.labels(self.service, event_type, "dead_lettered").inc()
        log.error("event.dead_lettered", reason=reason)

    def _republish(self, message: Message, **options: Any) -> None:
        # Confirmed before the original is acked: a crash in between only makes a duplicate.
        self.producer.publish(
            message.body,
            content_type=message.content_type or "application/json",
            content_encoding=message.content_encoding or "utf-8",
            delivery_mode=2,
            message_id=message.properties.get("message_id"),
            correlation_id=message.properties.get("correlation_id"),
            retry=True,
            retry_policy={"max_retries": 5, "interval_start": 0.2, "interval_step": 0.5},
            **options,
        )
