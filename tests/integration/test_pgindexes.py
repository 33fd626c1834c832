"""Declared indexes become indexes FerretDB's SQL uses, on the test profile's real PostgreSQL."""

from __future__ import annotations

import threading
import time

import mongoengine
import psycopg
import pytest

from services.common import db, pgindexes
from tests.support import drop_database, integration_settings

pytestmark = pytest.mark.integration
COLLECTION = "shelves_under_test"


class Shelf(mongoengine.Document):
    """A document as a service declares one: a compound index and a single-field one."""

    meta = {"collection": COLLECTION, "indexes": [["owner_id", "-placed_at"], "outbox_pending"]}

    id = mongoengine.StringField(primary_key=True)
    owner_id = mongoengine.StringField()
    placed_at = mongoengine.DateTimeField()
    outbox_pending = mongoengine.BooleanField()


class ShelfDeclaredAgain(mongoengine.Document):
    """The same collection after a release that no longer needs the owner index but a new one."""

    meta = {"collection": COLLECTION, "indexes": ["outbox_pending", "room"]}

    id = mongoengine.StringField(primary_key=True)
    room = mongoengine.StringField()
    outbox_pending = mongoengine.BooleanField()


@pytest.fixture(scope="module")
def settings():
    base = integration_settings("volunteers")
    settings = base.model_copy(update={"mongo_url": base.mongo_url.replace("it_volunteers", "it_indexes")})
    drop_database(settings)
    db.connect_database(settings)
    yield settings
    drop_database(settings)
    db.connect_database(base)


def our_indexes(settings) -> dict[str, str]:
    """Index name → definition of the GIN indexes in the test database's schema."""
    with psycopg.connect(settings.postgres_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s AND indexname LIKE %s",
            (settings.database_name, "%" + pgindexes.SUFFIX),
        ).fetchall()
    return dict(rows)


def indexed_fields(settings) -> set[str]:
    """The fields the GIN indexes cover, read back from their definitions."""
    fields = set()
    for definition in our_indexes(settings).values():
        assert "USING gin" in definition and "jsonb_path_ops" in definition, definition
        fields.add(definition.split("(_jsonb -> '")[1].split("'")[0])
    return fields


def scans(settings) -> tuple[int, int]:
    """(sequential, index) scans of the shelves table so far."""
    table = pgindexes.table_names(settings.postgres_url, settings.database_name)[COLLECTION]
    with psycopg.connect(settings.postgres_url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT seq_scan, coalesce(idx_scan, 0) FROM pg_stat_user_tables"
            " WHERE schemaname = %s AND relname = %s",
            (settings.database_name, table),
        ).fetchone()
    return row[0], row[1]


def test_every_declared_field_and_the_id_get_a_gin_index_once(settings):
    db.ensure_indexes(Shelf, settings=settings)
    assert indexed_fields(settings) == {"_id", "owner_id", "placed_at", "outbox_pending"}
    before = our_indexes(settings)
    report = pgindexes.sync(settings.postgres_url, settings.database_name, [Shelf])
    assert report.created == [] and report.dropped == []
    assert our_indexes(settings) == before


def test_ferretdbs_equality_is_served_by_the_index_not_a_scan(settings):
    db.ensure_indexes(Shelf, settings=settings)
    shelves = Shelf._get_collection()
    shelves.insert_many(
        [{"_id": f"s{i:05d}", "owner_id": f"o{i % 500}", "outbox_pending": i % 997 == 0} for i in range(5000)]
    )
    table = pgindexes.table_names(settings.postgres_url, settings.database_name)[COLLECTION]
    with psycopg.connect(settings.postgres_url, autocommit=True) as connection:
        connection.execute(f'ANALYZE "{settings.database_name}"."{table}"')
        # FerretDB's own statement, prepared as it prepares it, planned under the cluster's settings.
        connection.execute(
            f'PREPARE shelf AS SELECT _jsonb FROM "{settings.database_name}"."{table}" WHERE _jsonb->$1 @> $2'
        )
        for field_name, value in (("owner_id", '"o7"'), ("_id", '"s00042"'), ("outbox_pending", "true")):
            plan = "\n".join(
                row[0] for row in connection.execute(f"EXPLAIN EXECUTE shelf('{field_name}', '{value}')")
            )
            assert "Bitmap Index Scan" in plan and "Seq Scan" not in plan, plan
    idx_before = scans(settings)[1]
    assert len(list(shelves.find({"owner_id": "o7"}))) == 10
    assert shelves.find_one({"_id": "s00042"})["owner_id"] == "o42"
    assert shelves.count_documents({"outbox_pending": True}) == 6
    # FerretDB's statements used the indexes: the server counts their scans (it publishes its
    # statistics within PostgreSQL's 10 s idle interval).
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and scans(settings)[1] < idx_before + 3:
        time.sleep(0.2)
    assert scans(settings)[1] >= idx_before + 3


def test_a_changed_declaration_adds_its_new_indexes_and_drops_the_old(settings):
    db.ensure_indexes(Shelf, settings=settings)
    report = pgindexes.sync(settings.postgres_url, settings.database_name, [ShelfDeclaredAgain])
    assert sorted(field.split(".")[-1] for field in report.created) == ["room"]
    assert len(report.dropped) == 2
    assert indexed_fields(settings) == {"_id", "outbox_pending", "room"}


def test_two_workers_starting_together_both_succeed(settings):
    drop_database(settings)
    errors: list[BaseException] = []

    def start() -> None:
        try:
            pgindexes.sync(settings.postgres_url, settings.database_name, [Shelf])
        except BaseException as error:
            errors.append(error)

    db.ensure_indexes(Shelf)  # the collection exists, the GIN indexes do not yet
    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert indexed_fields(settings) == {"_id", "owner_id", "placed_at", "outbox_pending"}
