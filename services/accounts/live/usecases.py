"""The live hub of one web process: one consumer on an exclusive, auto-delete queue bound to the events
consoles need, fanning "something changed" notices out to the streams entitled to them."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kombu import Connection, Consumer, Message, Queue, binding
from kombu.mixins import ConsumerMixin

from services.accounts.live import domain
from services.accounts.live.domain import Facts
from services.accounts.notifications.models import RequestOwnerDocument
from services.accounts.people import usecases as people
from services.common.auth import Principal
from services.common.ids import new_id
from services.common.logs import get_logger
from services.common.settings import Settings
from services.common.topology import EVENTS_EXCHANGE

log = get_logger(__name__)


class TooManyStreams(Exception):
    """This process holds as many streams as it may; another process (or a retry) must take it."""


@dataclass(eq=False)
class Subscriber:
    """One open stream: whose it is, and the notices waiting to be written to it."""

    principal: Principal
    notices: queue.Queue = field(default_factory=lambda: queue.Queue(maxsize=200))

    def offer(self, notice: dict[str, Any]) -> None:
        """Queue a notice; a stream that stopped reading loses its oldest ones, never blocks the hub."""
        while True:
            try:
                self.notices.put_nowait(notice)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self.notices.get_nowait()


def resolve(facts: Facts) -> Facts:
    """Fill in what the event does not say: the request's resident, and a team offer's leader."""
    if facts.resident_id is None and facts.request_id:
        owner = RequestOwnerDocument.objects(id=facts.request_id).only("resident_id").first()
        facts.resident_id = owner.resident_id if owner is not None else None
    return facts


class _Consumer(ConsumerMixin):
    def __init__(self, connection: Connection, on_event: Callable[[dict[str, Any]], None]) -> None:
        self.connection = connection
        self.on_event = on_event
        # Named by host and process, so a reconnect redeclares the same exclusive queue.
        self.queue_name = f"live.{socket.gethostname()}.{os.getpid()}.{new_id()[-8:]}"

    def get_consumers(self, consumer_class: type[Consumer], channel: Any) -> list[Consumer]:
        live_queue = Queue(
            self.queue_name,
            exchange=EVENTS_EXCHANGE,
            bindings=[binding(EVENTS_EXCHANGE, routing_key=f"{name}.v1") for name in domain.LIVE_EVENTS],
            exclusive=True,
            auto_delete=True,
            durable=False,
        )
        return [
            consumer_class(queues=[live_queue], callbacks=[self._on_message], accept=["json"], no_ack=True)
        ]

    def _on_message(self, body: Any, message: Message) -> None:
        try:
            self.on_event(body if isinstance(body, dict) else json.loads(body))
        except Exception as error:  # one odd event must not end the stream of everyone
            log.warning("live.event_dropped", error=repr(error)[:200])


class LiveHub:
    """Streams of this process and the consumer feeding them (started with the first stream)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.subscribers: set[Subscriber] = set()
        self.lock = threading.Lock()
        self.consumer: _Consumer | None = None
        self.ready = threading.Event()

    def subscribe(self, principal: Principal) -> Subscriber:
        """A new stream; `TooManyStreams` past the process's limit."""
        with self.lock:
            if len(self.subscribers) >= self.settings.live_max_streams:
                raise TooManyStreams()
            subscriber = Subscriber(principal)
            self.subscribers.add(subscriber)
            if self.consumer is None:
                self._start()
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """The stream closed."""
        with self.lock:
            self.subscribers.discard(subscriber)

    def _start(self) -> None:
        connection = Connection(
            self.settings.amqp_url, heartbeat=self.settings.amqp_heartbeat, connect_timeout=5
        )
        self.consumer = _Consumer(connection, self.deliver)
        thread = threading.Thread(target=self._run, name="live-consumer", daemon=True)
        thread.start()

    def _run(self) -> None:
        assert self.consumer is not None
        consumer = self.consumer

        def consumed(*_args: Any, **_kwargs: Any) -> None:
            self.ready.set()

        consumer.on_consume_ready = consumed  # type: ignore[method-assign]
        consumer.run()

    def deliver(self, envelope: dict[str, Any]) -> int:
        """Fan one event out to the streams entitled to it; how many got it."""
        facts = domain.facts_of(envelope.get("type", ""), envelope.get("data") or {})
        if (
            facts.type == "task.offered"
            and not facts.volunteer_ids
            and (envelope.get("data") or {}).get("team_id")
        ):
            leader = people.team_leader(envelope["data"]["team_id"])
            facts.volunteer_ids = {leader} if leader else set()
        with self.lock:
            listeners = list(self.subscribers)
        if not listeners:
            return 0
        resolve(facts)
        notice = domain.notice(str(envelope.get("id", "")), facts, str(envelope.get("occurred_at", "")))
        told = 0
        for subscriber in listeners:
            if domain.entitled(subscriber.principal, facts):
                subscriber.offer(notice)
                told += 1
        return told
