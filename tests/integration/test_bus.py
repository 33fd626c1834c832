"""The bus mechanisms against the real broker: retries, dead letters, replay, duplicates."""

from __future__ import annotations

import json

import amqp
import pytest

from services.common.deadletters import DeadLetterTool
from services.common.publisher import amqp_params
from services.common.topology import ERROR_HEADER, EVENTS_EXCHANGE
from services.common.worker import WorkerSpec
from tests import factories
from tests.support import (
    INTEGRATION_AMQP_URL,
    delete_queues,
    drop_database,
    event,
    integration_settings,
    publish,
    running_worker,
    wait_until,
)

pytestmark = pytest.mark.integration
SERVICE = "bustest"


class FlakyHandler:
    """Fails until told it has been fixed; counts what it handled."""

    def __init__(self) -> None:
        self.fixed = False
        self.handled: list[str] = []
        self.failures = 0
        self.poisoned: set[str] = set()  # event ids that fail even once fixed

    def __call__(self, envelope, data) -> None:
        if not self.fixed or envelope.id in self.poisoned:
            self.failures += 1
            raise RuntimeError("the handler has a bug")
        self.handled.append(envelope.id)


@pytest.fixture(scope="module")
def bus():
    base = integration_settings("requests")
    settings = base.model_copy(
        update={"service": SERVICE, "mongo_url": base.mongo_url.replace("it_requests", "it_bus")}
    )
    drop_database(settings)
    delete_queues(settings.amqp_url, SERVICE)
    handler = FlakyHandler()
    spec = WorkerSpec(service=SERVICE, handlers={("task.accepted", 1): handler}, outbox_documents=[])
    with running_worker(spec, settings) as worker:
        yield handler, worker, DeadLetterTool(INTEGRATION_AMQP_URL)


def test_a_failing_event_is_retried_then_dead_lettered_then_replayed_once_fixed(bus):
    handler, _, tool = bus
    handler.fixed = False
    poison = event(factories.task_accepted())
    publish(INTEGRATION_AMQP_URL, poison)

    letters = wait_until(lambda: tool.peek(SERVICE, 10), what="the dead letter")
    (letter,) = [item for item in letters if item["message_id"] == poison["id"]]
    assert handler.failures == 4, "the first delivery and three retries"
    assert "the handler has a bug" in letter["error"]
    assert letter["routing_key"] == "task.accepted.v1" and letter["event"]["id"] == poison["id"]

    handler.fixed = True
    assert tool.replay(SERVICE, {poison["id"]}) == 1
    wait_until(lambda: poison["id"] in handler.handled, what="the replayed event")
    assert handler.handled.count(poison["id"]) == 1
    assert all(item["message_id"] != poison["id"] for item in tool.peek(SERVICE, 10))


def test_a_message_that_is_not_an_event_goes_straight_to_the_dead_letters(bus):
    handler, _, tool = bus
    failures_before = handler.failures
    connection = amqp.Connection(**amqp_params(INTEGRATION_AMQP_URL))
    connection.connect()
    channel = connection.channel()
    channel.basic_publish(
        amqp.Message(b"{not json", message_id="garbage-1"), EVENTS_EXCHANGE.name, "task.accepted.v1"
    )
    connection.close()
    letters = wait_until(lambda: [x for x in tool.peek(SERVICE, 10) if x["message_id"] == "garbage-1"])
    assert "not an event envelope" in letters[0]["error"]
    assert handler.failures == failures_before
    assert tool.purge(SERVICE) >= 1


def test_the_same_event_twice_is_handled_once(bus):
    handler, _, _ = bus
    handler.fixed = True
    twice = event(factories.task_accepted())
    marker = event(factories.task_accepted())
    publish(INTEGRATION_AMQP_URL, twice, twice, marker)
    wait_until(lambda: marker["id"] in handler.handled, what="the marker event")
    assert handler.handled.count(twice["id"]) == 1


def test_one_failing_event_among_others_delivered_together_holds_none_of_them_back(bus):
    handler, _, tool = bus
    handler.fixed = True
    first, poison, last = (event(factories.task_accepted()) for _ in range(3))
    handler.poisoned.add(poison["id"])
    failures_before = handler.failures
    # One confirmed batch: the consumer receives the three together and handles them as a batch.
    publish(INTEGRATION_AMQP_URL, first, poison, last)

    wait_until(lambda: last["id"] in handler.handled, what="the event after the failing one")
    assert handler.handled.index(first["id"]) < handler.handled.index(last["id"]), "arrival order kept"
    letters = wait_until(
        lambda: [x for x in tool.peek(SERVICE, 10) if x["message_id"] == poison["id"]], what="the dead letter"
    )
    assert len(letters) == 1 and handler.failures - failures_before == 4
    assert handler.handled.count(first["id"]) == 1 and handler.handled.count(last["id"]) == 1
    assert poison["id"] not in handler.handled
    handler.poisoned.clear()
    tool.purge(SERVICE)


def test_dead_letters_keep_their_error_header_for_operators(bus):
    handler, _, tool = bus
    handler.fixed = False
    poison = event(factories.task_accepted())
    publish(INTEGRATION_AMQP_URL, poison)
    wait_until(lambda: [x for x in tool.peek(SERVICE, 10) if x["message_id"] == poison["id"]])
    connection = amqp.Connection(**amqp_params(INTEGRATION_AMQP_URL))
    connection.connect()
    message = connection.channel().basic_get(f"{SERVICE}.dead", no_ack=False)
    assert message is not None and ERROR_HEADER in message.headers
    assert json.loads(message.body)["type"] == "task.accepted"
    connection.close()
    handler.fixed = True
    tool.purge(SERVICE)
