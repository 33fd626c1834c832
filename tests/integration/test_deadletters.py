"""`civicloop dlq replay`: each dead letter is replayed at most once per command."""

from __future__ import annotations

import threading

import pika
import pytest

from services.common.deadletters import DeadLetterTool
from services.common.topology import dead_queue_name, main_queue_name
from tests.support import INTEGRATION_AMQP_URL, wait_until

pytestmark = pytest.mark.integration
SERVICE = "replayprobe"


def _channel() -> tuple[pika.BlockingConnection, object]:
    connection = pika.BlockingConnection(pika.URLParameters(INTEGRATION_AMQP_URL))
    return connection, connection.channel()


@pytest.fixture
def queues():
    connection, channel = _channel()
    for name in (main_queue_name(SERVICE), dead_queue_name(SERVICE)):
        channel.queue_delete(name)
        channel.queue_declare(name, durable=True)
    yield channel
    for name in (main_queue_name(SERVICE), dead_queue_name(SERVICE)):
        channel.queue_delete(name)
    connection.close()


def _dead_letter(channel, message_id: str) -> None:
    properties = pika.BasicProperties(message_id=message_id, headers={"x-civicloop-error": "boom"})
    channel.basic_publish("", dead_queue_name(SERVICE), b"{}", properties)


def _still_failing_worker(stop: threading.Event, moved: list[str]) -> None:
    """A worker for whom the poison still fails: it dead-letters each replay at once."""
    connection, channel = _channel()
    try:
        while not stop.is_set():
            method, properties, body = channel.basic_get(main_queue_name(SERVICE), auto_ack=False)
            if method is None:
                connection.sleep(0.001)
                continue
            channel.basic_publish("", dead_queue_name(SERVICE), body, properties)
            channel.basic_ack(method.delivery_tag)
            moved.append(properties.message_id)
    finally:
        connection.close()


def test_a_still_failing_letter_is_replayed_once_with_many_behind_it(queues):
    channel = queues
    channel.confirm_delivery()
    _dead_letter(channel, "poison")
    for n in range(200):
        _dead_letter(channel, f"other-{n}")
    stop, moved = threading.Event(), []
    worker = threading.Thread(target=_still_failing_worker, args=(stop, moved))
    worker.start()
    try:
        replayed = DeadLetterTool(INTEGRATION_AMQP_URL).replay(SERVICE, {"poison"})
        # The worker may still hold the last replay; a second copy could only come from the replay.
        wait_until(lambda: "poison" in moved, what="the replayed letter to be dead-lettered again")
    finally:
        stop.set()
        worker.join(timeout=10)
    assert replayed == 1
    assert moved.count("poison") == 1
    waiting = channel.queue_declare(dead_queue_name(SERVICE), passive=True).method.message_count
    assert waiting == 201


def test_replaying_all_replays_each_once(queues):
    channel = queues
    channel.confirm_delivery()
    for n in range(30):
        _dead_letter(channel, f"letter-{n}")
    stop, moved = threading.Event(), []
    worker = threading.Thread(target=_still_failing_worker, args=(stop, moved))
    worker.start()
    try:
        replayed = DeadLetterTool(INTEGRATION_AMQP_URL).replay(SERVICE)
        wait_until(lambda: len(moved) >= 30, what="every replayed letter to be dead-lettered again")
    finally:
        stop.set()
        worker.join(timeout=10)
    assert replayed == 30
    assert sorted(moved) == sorted(f"letter-{n}" for n in range(30))
