"""The broker topology of DESIGN.md, declared by each worker for its own service.

civicloop.events (topic) ──<keys the service consumes>──> <service>.events (quorum)
    <service>.events ──handler fails──> civicloop.retry (direct) ──> <service>.retry.N
    <service>.retry.N ──after its delay──> (default exchange) ──> <service>.events
    after the last retry, or a message that is not an event ──> civicloop.dead ──> <service>.dead
"""

from __future__ import annotations

from collections.abc import Iterable

from kombu import Exchange, Queue, binding

EVENTS_EXCHANGE = Exchange("civicloop.events", type="topic", durable=True)
RETRY_EXCHANGE = Exchange("civicloop.retry", type="direct", durable=True)
DEAD_EXCHANGE = Exchange("civicloop.dead", type="direct", durable=True)

# Headers we add on the way through retries and dead-lettering.
ATTEMPT_HEADER = "x-civicloop-attempt"
ERROR_HEADER = "x-civicloop-error"
ROUTING_KEY_HEADER = "x-civicloop-routing-key"


def main_queue_name(service: str) -> str:
    """The durable quorum queue a service consumes from."""
    return f"{service}.events"


def dead_queue_name(service: str) -> str:
    """Where a service's poison messages wait for an operator."""
    return f"{service}.dead"


def retry_queue_name(service: str, attempt: int) -> str:
    """The holding queue of the attempt-th retry."""
    return f"{service}.retry.{attempt}"


def main_queue(service: str, routing_keys: Iterable[str], delivery_limit: int) -> Queue:
    """The service's quorum queue, bound to each routing key it consumes."""
    return Queue(
        main_queue_name(service),
        bindings=[binding(EVENTS_EXCHANGE, routing_key=key) for key in sorted(set(routing_keys))],
        durable=True,
        queue_arguments={
            "x-queue-type": "quorum",
            # A worker that dies on a message again and again must not block the queue forever.
            "x-delivery-limit": delivery_limit,
            "x-dead-letter-exchange": DEAD_EXCHANGE.name,
            "x-dead-letter-routing-key": service,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        },
    )


def dead_queue(service: str) -> Queue:
    """The service's dead-letter queue."""
    return Queue(
        dead_queue_name(service),
        exchange=DEAD_EXCHANGE,
        routing_key=service,
        durable=True,
        queue_arguments={"x-queue-type": "quorum"},
    )


def retry_queues(service: str, levels: int) -> list[Queue]:
    """One holding queue per retry level; messages carry their own expiration (the back-off)."""
    return [
        Queue(
            retry_queue_name(service, attempt),
            exchange=RETRY_EXCHANGE,
            routing_key=retry_queue_name(service, attempt),
            durable=True,
            # Quorum, like the main queue: in a cluster a classic queue lives on one node and is gone
            # while that node is down. Quorum queues honour per-message TTL since RabbitMQ 3.10.
            queue_arguments={
                "x-queue-type": "quorum",
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": main_queue_name(service),
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            },
        )
        for attempt in range(1, levels + 1)
    ]


def service_queues(
    service: str, routing_keys: Iterable[str], delivery_limit: int, retry_levels: int
) -> list[Queue]:
    """Every queue a service's worker declares."""
    return [
        main_queue(service, routing_keys, delivery_limit),
        dead_queue(service),
        *retry_queues(service, retry_levels),
    ]
