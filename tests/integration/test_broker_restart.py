"""A worker rides out a broker restart: its consumer and its relay reconnect by themselves."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import amqp
import mongoengine
import pytest

from civicloop.profiles import ROOT
from services.common.events import make_event
from services.common.ids import new_id
from services.common.publisher import amqp_params
from services.common.store import AggregateDocument, AggregateStore
from services.common.topology import EVENTS_EXCHANGE
from services.common.worker import WorkerSpec
from tests import factories
from tests.support import (
    INTEGRATION_AMQP_URL,
    PROFILE,
    TEST_PROFILE,
    delete_queues,
    drop_database,
    event,
    integration_settings,
    publish,
    running_worker,
    wait_until,
)

pytestmark = pytest.mark.integration
SERVICE = "restarttest"
CAPTURE_QUEUE = "restarttest.capture"


class Note(AggregateDocument):
    meta = {"collection": "notes_under_test", "indexes": ["outbox_pending"]}

    id = mongoengine.StringField(primary_key=True)


notes = AggregateStore(Note)


def rabbitmqctl(*arguments: str) -> None:
    """rabbitmqctl against the profile's broker: its own node when it has one, else the shared one."""
    if PROFILE.get("RABBITMQ_NODE_PREFIX"):
        script = str(ROOT / "deploy" / "local" / "rabbitmq-cluster.sh")
        command = [script, "ctl", TEST_PROFILE, "1", *arguments]
    else:
        command = ["rabbitmqctl", "-q", *arguments]
    subprocess.run(command, check=True, capture_output=True, timeout=120)


@pytest.fixture()
def worker():
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("needs rabbitmqctl to restart the broker")
    base = integration_settings("requests")
    settings = base.model_copy(
        update={"service": SERVICE, "mongo_url": base.mongo_url.replace("it_requests", "it_restart")}
    )
    drop_database(settings)
    delete_queues(settings.amqp_url, SERVICE)
    handled: list[str] = []
    spec = WorkerSpec(
        service=SERVICE,
        handlers={("task.accepted", 1): lambda envelope, _data: handled.append(envelope.id)},
        outbox_documents=[Note],
    )
    with running_worker(spec, settings):
        yield handled


def durable_capture_queue() -> tuple[amqp.Connection, Any]:
    """A queue that outlives the restart, bound to what the relay will publish."""
    connection = amqp.Connection(**amqp_params(INTEGRATION_AMQP_URL))
    connection.connect()
    channel = connection.channel()
    channel.queue_delete(CAPTURE_QUEUE)
    channel.queue_declare(CAPTURE_QUEUE, durable=True, auto_delete=False)
    channel.queue_bind(CAPTURE_QUEUE, EVENTS_EXCHANGE.name, "task.checked_in.v1")
    return connection, channel


def captured_ids() -> list[str]:
    connection = amqp.Connection(**amqp_params(INTEGRATION_AMQP_URL))
    connection.connect()
    try:
        channel = connection.channel()
        ids = []
        while (message := channel.basic_get(CAPTURE_QUEUE, no_ack=True)) is not None:
            ids.append(json.loads(message.body)["id"])
        channel.queue_delete(CAPTURE_QUEUE)
        return ids
    finally:
        connection.close()


def test_consumer_and_relay_reconnect_after_a_broker_restart(worker):
    handled = worker
    before = event(factories.task_accepted())
    publish(INTEGRATION_AMQP_URL, before)
    wait_until(lambda: before["id"] in handled, what="the event before the restart")
    connection, _ = durable_capture_queue()
    connection.close()

    rabbitmqctl("stop_app")
    try:
        # A write while the broker is away succeeds; its event waits in the document.
        note_id = new_id()
        waiting = make_event(
            factories.task_checked_in(request_id=note_id), producer="test", correlation_id=note_id
        )
        notes.insert(note_id, {}, [waiting])
    finally:
        rabbitmqctl("start_app")
    rabbitmqctl("await_startup")

    after = event(factories.task_accepted())
    publish(INTEGRATION_AMQP_URL, after)
    wait_until(lambda: after["id"] in handled, timeout=30, what="the consumer to reconnect")
    wait_until(
        lambda: Note._get_collection().find_one({"_id": note_id})["outbox_pending"] is False,
        timeout=30,
        what="the relay to reconnect and publish the waiting event",
    )
    assert captured_ids() == [waiting["id"]]
    assert handled.count(before["id"]) == 1 and handled.count(after["id"]) == 1
