"""A profile's reset forgets its queued events: `rabbitmq.sh drop-vhosts` deletes vhost and queues."""

from __future__ import annotations

import subprocess

import amqp
import pytest

from civicloop.profiles import ROOT
from services.common.ids import new_id

pytestmark = pytest.mark.integration
RABBITMQ = str(ROOT / "deploy" / "local" / "rabbitmq.sh")
# One vhost per run: the node on 5672 is shared by every worktree, and two runs probing one vhost
# at once counted each other's messages.
VHOST = f"civicloop-reset-probe-{new_id().lower()}"


def _vhosts() -> set[str]:
    listed = subprocess.run(["rabbitmqctl", "-q", "list_vhosts"], capture_output=True, text=True, check=True)
    return {line.strip() for line in listed.stdout.splitlines() if line.strip()}


def test_drop_vhosts_removes_the_vhost_with_its_queued_messages():
    subprocess.run([RABBITMQ, "start", VHOST], check=True, capture_output=True)
    # confirm_publish makes basic_publish wait for the broker's ack, so the queue holds it when counted.
    connection = amqp.Connection(
        host="127.0.0.1:5672", userid="guest", password="guest", virtual_host=VHOST, confirm_publish=True
    )
    connection.connect()
    try:
        channel = connection.channel()
        channel.queue_declare("dispatch.events", durable=True, auto_delete=False)
        channel.basic_publish(amqp.Message(b'{"stale": true}'), exchange="", routing_key="dispatch.events")
        _, waiting, _ = channel.queue_declare("dispatch.events", passive=True)
        assert waiting == 1
    finally:
        connection.close()

    subprocess.run([RABBITMQ, "drop-vhosts", VHOST], check=True, capture_output=True)

    assert VHOST not in _vhosts()
    subprocess.run([RABBITMQ, "start", VHOST], check=True, capture_output=True)
    connection = amqp.Connection(host="127.0.0.1:5672", userid="guest", password="guest", virtual_host=VHOST)
    connection.connect()
    try:
        with pytest.raises(amqp.exceptions.NotFound):
            connection.channel().queue_declare("dispatch.events", passive=True)
    finally:
        connection.close()
        subprocess.run([RABBITMQ, "drop-vhosts", VHOST], check=False, capture_output=True)
