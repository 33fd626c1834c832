"""The relay's publisher with a list of broker nodes, and with a broker that refuses (nacks) events."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import amqp
import pytest

from services.common.deadletters import DeadLetterTool
from services.common.ids import new_id
from services.common.publisher import ConfirmingPublisher, amqp_params, connect_any
from services.common.topology import EVENTS_EXCHANGE
from tests.support import INTEGRATION_AMQP_URL, delete_queues, integration_settings

pytestmark = pytest.mark.integration
# The same node on port 9, where nothing listens (whatever port the profile's broker has).
NOWHERE = urlunsplit(
    urlsplit(INTEGRATION_AMQP_URL)._replace(
        netloc=urlsplit(INTEGRATION_AMQP_URL).netloc.rsplit(":", 1)[0] + ":9"
    )
)
FULL_QUEUE = "nacktest.full"


def probe(event_id: str) -> dict:
    # Its own routing key (nacktest.probe.v1): only the test's queue is bound to it.
    return {"id": event_id, "type": "nacktest.probe", "version": 1, "data": {}}


def test_the_first_node_that_answers_is_used():
    connection, index = connect_any(f"{NOWHERE};{INTEGRATION_AMQP_URL}", connect_timeout=2)
    connection.close()
    assert index == 1
    publisher = ConfirmingPublisher(f"{NOWHERE};{INTEGRATION_AMQP_URL}")
    try:
        event_id = new_id()
        assert publisher.publish_batch([probe(event_id)]) == {event_id}
    finally:
        publisher.close()


def test_the_dead_letter_tool_takes_a_node_list():
    settings = integration_settings("ratings")
    delete_queues(settings.amqp_url, "ratings")
    # The tool reads queues the worker declares; declare the dead-letter queue as it would.
    connection = amqp.Connection(**amqp_params(INTEGRATION_AMQP_URL))
    connection.connect()
    channel = connection.channel()
    channel.queue_declare(
        "ratings.dead", durable=True, auto_delete=False, arguments={"x-queue-type": "quorum"}
    )
    connection.close()
    tool = DeadLetterTool(f"{NOWHERE};{INTEGRATION_AMQP_URL}")
    assert tool.peek("ratings", 5) == []
    assert tool.purge("ratings") == 0
    delete_queues(settings.amqp_url, "ratings")


def test_refused_events_are_not_confirmed_and_the_channel_is_replaced():
    connection = amqp.Connection(**amqp_params(INTEGRATION_AMQP_URL))
    connection.connect()
    channel = connection.channel()
    channel.exchange_declare(EVENTS_EXCHANGE.name, "topic", durable=True, auto_delete=False)
    channel.queue_delete(FULL_QUEUE)
    # A queue that takes nothing and says so: every publish routed to it is nacked.
    channel.queue_declare(
        FULL_QUEUE,
        durable=False,
        auto_delete=False,
        arguments={"x-max-length": 0, "x-overflow": "reject-publish"},
    )
    channel.queue_bind(FULL_QUEUE, EVENTS_EXCHANGE.name, "nacktest.probe.v1")
    publisher = ConfirmingPublisher(INTEGRATION_AMQP_URL)
    try:
        refused = new_id()
        assert publisher.publish_batch([probe(refused)]) == set()
        assert not publisher.connected  # the next batch goes out on a fresh channel
        channel.queue_delete(FULL_QUEUE)
        assert publisher.publish_batch([probe(refused)]) == {refused}
    finally:
        publisher.close()
        connection.close()
