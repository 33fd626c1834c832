"""Consuming a service's queue: one handler call per event, acked only after its write landed.

Outcomes of a delivery:
- not an event of the catalogue → straight to the dead-letter queue;
- seen before (inbox) → acked, nothing done;
- handler succeeds → inbox remembers the id, then ack;
- database away → wait and try again, holding the message (it is not the message's fault);
- handler raises → a copy goes to the next retry queue (back-off), or after the last retry to the
  dead-letter queue, and the original is acked once that copy is confirmed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
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

    # -- one delivery ----------------------------------------------------------------------------
    def on_message(self, _body: Any, message: Message) -> None:
        if message.delivery_info.get("redelivered"):
            EVENTS_REDELIVERED.labels(self.service).inc()
        try:
            envelope, data = parse_event(message.body)
        except InvalidEvent as error:
            log.error("event.invalid", error=str(error))
            self._dead_letter(message, str(error), "invalid")
            return
        with bound_context(
            event_id=envelope.id, event_type=envelope.type, correlation_id=envelope.correlation_id
        ):
            self._deliver(message, envelope, data)

    def _deliver(self, message: Message, envelope: Envelope, data: BaseModel) -> None:
        handler = self.handlers.get((envelope.type, envelope.version))
        if handler is None:  # bound once, no longer handled: nothing to do
            message.ack()
            EVENTS_CONSUMED.labels(self.service, envelope.type, "ignored").inc()
            return
        if self._with_database(lambda: inbox.already_handled(envelope.id)):
            message.ack()
            EVENTS_CONSUMED.labels(self.service, envelope.type, "duplicate").inc()
            log.info("event.duplicate")
            return
        started = time.perf_counter()
        try:
            self._with_database(lambda: handler(envelope, data))
        except Exception as error:
            log.exception("event.handler_failed")
            self._retry_or_dead_letter(message, envelope, error)
            return
        HANDLER_SECONDS.labels(self.service, envelope.type).observe(time.perf_counter() - started)
        self._with_database(lambda: inbox.remember(envelope.id, envelope.type))
        message.ack()
        EVENTS_CONSUMED.labels(self.service, envelope.type, "handled").inc()
        log.info("event.handled", seconds=round(time.perf_counter() - started, 4))

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
