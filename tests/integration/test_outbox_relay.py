"""The relay against the real broker and database: events wait out a broker outage, then go once."""

from __future__ import annotations

import threading
import time

import mongoengine
import pytest

from services.common import db, locks
from services.common.events import make_event
from services.common.ids import new_id
from services.common.outbox import OutboxRelay
from services.common.publisher import CONNECTION_ERRORS, ConfirmingPublisher
from services.common.store import AggregateDocument, AggregateStore
from tests import factories
from tests.support import INTEGRATION_AMQP_URL, EventCapture, drop_database, integration_settings

pytestmark = pytest.mark.integration


class Parcel(AggregateDocument):
    meta = {"collection": "parcels_under_test", "indexes": ["outbox_pending"]}

    id = mongoengine.StringField(primary_key=True)
    note = mongoengine.StringField()


store = AggregateStore(Parcel)


@pytest.fixture(scope="module", autouse=True)
def database():
    base = integration_settings("ratings")
    settings = base.model_copy(update={"mongo_url": base.mongo_url.replace("it_ratings", "it_relay")})
    drop_database(settings)
    db.connect_database(settings)
    yield
    db.connect_database(base)


def stored_parcel() -> tuple[str, dict]:
    parcel_id = new_id()
    envelope = make_event(
        factories.task_accepted(request_id=parcel_id), producer="test", correlation_id=parcel_id
    )
    store.insert(parcel_id, {"note": "written while the broker is away"}, [envelope])
    return parcel_id, envelope


def test_events_wait_in_the_outbox_while_the_broker_is_away_then_go_out_once():
    parcel_id, envelope = stored_parcel()
    unreachable = OutboxRelay("test", [Parcel], ConfirmingPublisher("amqp://guest:guest@127.0.0.1:9/nowhere"))
    with pytest.raises(CONNECTION_ERRORS):
        unreachable.relay_once()
    waiting = Parcel._get_collection().find_one({"_id": parcel_id})
    assert [e["id"] for e in waiting["outbox"]] == [envelope["id"]] and waiting["outbox_pending"] is True

    capture = EventCapture(INTEGRATION_AMQP_URL)
    try:
        relay = OutboxRelay("test", [Parcel], ConfirmingPublisher(INTEGRATION_AMQP_URL))
        assert relay.relay_once() >= 1
        assert relay.relay_once() == 0, "nothing is published twice once confirmed"
        relay.publisher.close()
        assert [e.id for e in capture.of_type("task.accepted", request_id=parcel_id)] == [envelope["id"]]
    finally:
        capture.close()
    published = Parcel._get_collection().find_one({"_id": parcel_id})
    assert published["outbox"] == [] and published["outbox_pending"] is False


def test_an_event_added_while_publishing_is_kept_for_the_next_round():
    parcel_id, first = stored_parcel()
    relay = OutboxRelay("test", [Parcel], ConfirmingPublisher(INTEGRATION_AMQP_URL))
    second = make_event(
        factories.task_checked_in(request_id=parcel_id), producer="test", correlation_id=parcel_id
    )
    real_publish = relay.publisher.publish_batch

    def publish_then_write(events):
        confirmed = real_publish(events)
        assert first["id"] in confirmed
        store.save(parcel_id, 1, {"note": "changed meanwhile"}, [second])
        return confirmed

    relay.publisher.publish_batch = publish_then_write
    relay.relay_once()
    relay.publisher.publish_batch = real_publish
    document = Parcel._get_collection().find_one({"_id": parcel_id})
    assert [e["id"] for e in document["outbox"]] == [second["id"]] and document["outbox_pending"] is True
    relay.relay_once()
    relay.publisher.close()
    assert Parcel._get_collection().find_one({"_id": parcel_id})["outbox_pending"] is False


def test_batch_leases_skip_a_held_one_and_give_back_only_their_own():
    writer = locks.acquire("parcels_under_test:held")
    lease, held = locks.acquire_many(["parcels_under_test:held", "parcels_under_test:free"])
    assert held == ["parcels_under_test:free"]
    locks.release_many(lease)
    stored = locks.DocumentLock._get_collection()
    assert stored.find_one({"_id": "parcels_under_test:free"}) is None
    assert stored.find_one({"_id": "parcels_under_test:held"})["lease"] == writer
    locks.release("parcels_under_test:held", writer)


def test_a_document_a_writer_holds_is_emptied_once_the_writer_lets_go():
    parcel_id, _ = stored_parcel()
    others = [stored_parcel()[0] for _ in range(3)]
    relay = OutboxRelay("test", [Parcel], ConfirmingPublisher(INTEGRATION_AMQP_URL))
    writer = locks.acquire(f"{Parcel._get_collection().name}:{parcel_id}")
    relaying = threading.Thread(target=relay.relay_once)
    relaying.start()
    time.sleep(0.5)
    # The batch went past the held document; the others are emptied already.
    assert relaying.is_alive()
    for other in others:
        assert Parcel._get_collection().find_one({"_id": other})["outbox_pending"] is False
    assert Parcel._get_collection().find_one({"_id": parcel_id})["outbox_pending"] is True
    locks.release(f"{Parcel._get_collection().name}:{parcel_id}", writer)
    relaying.join(10)
    relay.publisher.close()
    emptied = Parcel._get_collection().find_one({"_id": parcel_id})
    assert emptied["outbox"] == [] and emptied["outbox_pending"] is False
