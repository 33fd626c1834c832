"""Aggregate writes on the real database server: concurrent writers never lose an update."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import mongoengine
import pytest

from services.common import db, locks, memory_tables, tables
from services.common.ids import new_id, utcnow
from services.common.rollups import Contribution, Rollup, members_of, totals
from services.common.store import AggregateDocument, AggregateStore, holding
from tests.support import drop_database, integration_settings

pytestmark = pytest.mark.integration


class Counter(AggregateDocument):
    meta = {"collection": "counters_under_test"}

    id = mongoengine.StringField(primary_key=True)
    count = mongoengine.IntField(default=0)
    seen = mongoengine.ListField(mongoengine.StringField())


store = AggregateStore(Counter)


@pytest.fixture(scope="module", autouse=True)
def database():
    settings = integration_settings("ratings").model_copy(
        update={"mongo_url": integration_settings("ratings").mongo_url.replace("it_ratings", "it_store")}
    )
    drop_database(settings)
    db.connect_database(settings)
    yield
    db.connect_database(integration_settings("ratings"))


@holding(store, lambda counter_id, _label: counter_id)
def increment(counter_id: str, label: str) -> None:
    document = store.get(counter_id)
    store.save(
        counter_id,
        document["version"],
        {"count": document["count"] + 1, "seen": [*document["seen"], label]},
        [{"id": new_id(), "type": "counted", "label": label}],
    )


def test_concurrent_read_modify_write_loses_nothing():
    counter_id = new_id()
    store.insert(counter_id, {"count": 0, "seen": []}, [])
    writers, per_writer = 4, 25

    def write(writer: int) -> None:
        for n in range(per_writer):
            increment(counter_id, f"{writer}-{n}")

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    document = Counter._get_collection().find_one({"_id": counter_id})
    assert document["count"] == writers * per_writer
    assert len(set(document["seen"])) == writers * per_writer
    assert document["version"] == 1 + writers * per_writer
    assert len(document["outbox"]) == writers * per_writer and document["outbox_pending"] is True


def test_an_abandoned_lease_expires_and_is_taken_over():
    key = f"counters_under_test:{new_id()}"
    locks.DocumentLock._get_collection().insert_one(
        {"_id": key, "lease": "dead-process", "owner": "gone", "expires_at": utcnow() - timedelta(seconds=1)}
    )
    with locks.locked(key):
        holder = locks.DocumentLock._get_collection().find_one({"_id": key})
        assert holder["lease"] != "dead-process"
    assert locks.DocumentLock._get_collection().find_one({"_id": key}) is None


def test_a_live_lease_makes_others_wait_then_time_out():
    key = f"counters_under_test:{new_id()}"
    previous = locks.config.wait_seconds
    locks.configure(enabled=True, ttl_seconds=5, wait_seconds=0.3)
    try:
        with locks.locked(key), pytest.raises(locks.LockTimeout):
            locks.acquire(key)
    finally:
        locks.configure(enabled=True, ttl_seconds=5, wait_seconds=previous)


class Tally(AggregateDocument):
    meta = {"collection": "tallies_under_test", "indexes": ["rollups_pending"]}

    id = mongoengine.StringField(primary_key=True)
    status = mongoengine.StringField()


TALLY = Rollup("tallies_under_test", grain="day")


def tally_rollups(document: Mapping[str, Any], _now: datetime) -> Contribution:
    counted: Contribution = {}
    TALLY.add(counted, "凤都镇", datetime(2026, 11, 30, tzinfo=UTC), document["status"])
    return counted


tallies = AggregateStore(Tally, rollups=tally_rollups)


def test_a_document_value_whose_keys_alone_change_is_written():
    """FerretDB 1.24 found {"due": 1} equal to {"missed": 1} and skipped the $set; the marks make it write."""
    tally_id = new_id()
    tallies.insert(tally_id, {"status": "due"}, [])
    tallies.save(tally_id, 1, {"status": "missed"}, [])
    stored = tallies.table.get(tally_id)
    assert stored["rollups_applied"] == {"tallies_under_test|凤都镇|2026-11-30": {"missed": 1}}
    assert totals(TALLY, ["凤都镇"]) == {"凤都镇": {"missed": 1}}
    raw = Tally._get_collection().find_one({"_id": tally_id})
    assert tables.CHANGE_MARK in raw["rollups_applied"]  # what reads through the door never see


@pytest.mark.parametrize("backend", ["server", "memory"])
def test_insert_many_stores_the_free_ids_and_names_the_taken_ones(backend):
    in_memory = memory_tables.MemoryTable("counters_under_test")
    table = tables.MongoTable(Counter) if backend == "server" else in_memory
    taken = new_id()
    table.insert({"_id": taken, "count": 7})
    fresh = [new_id(), new_id()]
    batch = [{"_id": fresh[0], "count": 1}, {"_id": taken, "count": 2}, {"_id": fresh[1]}]
    refused = table.insert_many(batch)
    assert refused == {taken}
    assert table.get(taken)["count"] == 7, "a taken id keeps what it held"
    assert table.get(fresh[0])["count"] == 1 and table.get(fresh[1]) is not None, "the batch went on past it"
    assert table.insert_many([]) == set()


class Order(AggregateDocument):
    meta = {"collection": "orders_under_test", "indexes": ["rollups_pending"]}

    id = mongoengine.StringField(primary_key=True)
    township = mongoengine.StringField()
    status = mongoengine.StringField()


ORDERS = Rollup("orders_under_test", grain="day")


def order_rollups(document: Mapping[str, Any], _now: datetime) -> Contribution:
    counted: Contribution = {}
    ORDERS.add(counted, document["township"], datetime(2026, 11, 30, tzinfo=UTC), document["status"])
    return counted


orders = AggregateStore(Order, rollups=order_rollups, settle_inserts_later=True)


def test_new_documents_are_settled_together_and_one_a_writer_moved_meanwhile_is_mended():
    townships = ["凤都镇", "平湖镇", "鹤塘镇"]
    ids = [new_id() for _ in range(60)]
    for number, order_id in enumerate(ids):
        orders.insert(order_id, {"township": townships[number % 3], "status": "submitted"}, [])
    assert totals(ORDERS, townships) == {}, "nothing settled on insert"
    holding = threading.Event()

    def writer() -> None:
        # Holds the first order while the sweep writes its rollups, then moves it to another township
        # (settling inline, from nothing applied: the sweep's entry in the old township is not its to undo).
        with orders.locked(ids[0]):
            holding.set()
            time.sleep(0.3)
            orders.save(ids[0], 1, {"township": "平湖镇"}, [])

    changing = threading.Thread(target=writer)
    changing.start()
    holding.wait(5)
    assert orders.settle_pending() == 60, "two passes (50 and 10); the held one waited for, not skipped"
    changing.join(10)
    assert totals(ORDERS, townships) == {
        "凤都镇": {"submitted": 19},
        "平湖镇": {"submitted": 21},
        "鹤塘镇": {"submitted": 20},
    }
    assert all(orders.table.get(order_id)["rollups_pending"] is False for order_id in ids)
    assert orders.table.get(ids[0])["rollups_applied"] == {
        "orders_under_test|平湖镇|2026-11-30": {"submitted": 1}
    }
    # The leaf of a township holds each member once.
    assert len(members_of(ORDERS, "平湖镇", datetime(2026, 11, 30, 12, tzinfo=UTC))) == 21
