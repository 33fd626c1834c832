"""Operator access to dead letters, on pika: a low-level client fits a get-inspect-ack tool."""

from __future__ import annotations

import json
from typing import Any

import pika

from services import SERVICES
from services.common.publisher import amqp_urls
from services.common.topology import (
    ATTEMPT_HEADER,
    ERROR_HEADER,
    ROUTING_KEY_HEADER,
    dead_queue_name,
    main_queue_name,
)


class DeadLetterTool:
    """Counts, shows, replays and purges the `<service>.dead` queues."""

    def __init__(self, amqp_url: str) -> None:
        # A failover list (`url1;url2`) becomes pika's list of parameters: it tries each in turn.
        self.parameters = [pika.URLParameters(url) for url in amqp_urls(amqp_url)]

    def _channel(self) -> tuple[pika.BlockingConnection, Any]:
        connection = pika.BlockingConnection(self.parameters)
        return connection, connection.channel()

    def counts(self) -> dict[str, int]:
        """Messages in each service's dead-letter queue."""
        connection, channel = self._channel()
        try:
            return {
                service: channel.queue_declare(dead_queue_name(service), passive=True).method.message_count
                for service in SERVICES
            }
        finally:
            connection.close()

    def peek(self, service: str, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` dead letters; closing the channel unacked leaves them in the queue."""
        connection, channel = self._channel()
        letters = []
        try:
            for _ in range(limit):
                method, properties, body = channel.basic_get(dead_queue_name(service), auto_ack=False)
                if method is None:
                    break
                letters.append(self._describe(properties, body))
        finally:
            connection.close()
        return letters

    def replay(self, service: str, event_ids: set[str] | None = None) -> int:
        """Re-queue dead letters (all, or those with `event_ids`) for the service; ack each once confirmed."""
        connection, channel = self._channel()
        channel.confirm_delivery()
        replayed: set[str] = set()
        skipped = []
        try:
            # Only the letters there when we started: a replayed event that fails again is
            # dead-lettered behind them, and meeting it again must not replay it twice.
            waiting = channel.queue_declare(dead_queue_name(service), passive=True).method.message_count
            for _ in range(waiting):
                method, properties, body = channel.basic_get(dead_queue_name(service), auto_ack=False)
                if method is None:
                    break
                key = properties.message_id or f"tag-{method.delivery_tag}"
                wanted = event_ids is None or properties.message_id in event_ids
                if not wanted or key in replayed:
                    skipped.append(method.delivery_tag)
                    continue
                headers = dict(properties.headers or {})
                headers.pop(ATTEMPT_HEADER, None)  # a fresh set of retries
                headers["x-civicloop-replayed"] = True
                properties.headers = headers
                channel.basic_publish("", main_queue_name(service), body, properties, mandatory=True)
                channel.basic_ack(method.delivery_tag)
                replayed.add(key)
            for tag in skipped:
                channel.basic_nack(tag, requeue=True)
        finally:
            connection.close()
        return len(replayed)

    def purge(self, service: str) -> int:
        """Drop every dead letter of a service."""
        connection, channel = self._channel()
        try:
            return channel.queue_purge(dead_queue_name(service)).method.message_count
        finally:
            connection.close()

    @staticmethod
    def _describe(properties: Any, body: bytes) -> dict[str, Any]:
        headers = properties.headers or {}
        try:
            event: Any = json.loads(body)
        except ValueError:
            event = body.decode("utf-8", "replace")
        return {
            "message_id": properties.message_id,
            "routing_key": headers.get(ROUTING_KEY_HEADER),
            "error": headers.get(ERROR_HEADER),
            "attempts": headers.get(ATTEMPT_HEADER),
            "event": event,
        }
