"""The benches' COPY path stores exactly what FerretDB itself stores for the same documents."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest
from bson import ObjectId
from bson.int64 import Int64
from psycopg import sql
from pymongo import MongoClient

from bench.ferret_copy import CopySink, encode
from services.common import pgindexes
from tests.support import PROFILE, postgres_url

pytestmark = pytest.mark.integration

DATABASE = "it_ferret_copy"
MOMENT = datetime(2026, 11, 30, 6, 41, 12, 345_678, tzinfo=UTC)


def documents() -> list[dict]:
    """Every type the services store, nested the ways they nest them."""
    return [
        {
            "_id": f"01JD{number:022d}",
            "title": '修水管 "quoted" \\ back\\slash',
            "count": number,
            "big": 2**40 + number,
            "long": Int64(7),
            "ratio": 0.25 + number,
            "whole": 5.0,
            "negative": -3,
            "done": number % 2 == 0,
            "none": None,
            "at": MOMENT + timedelta(minutes=number),
            "elsewhere": datetime(2026, 1, 1, 8, tzinfo=timezone(timedelta(hours=8))),
            "oid": ObjectId("6560a1b2c3d4e5f601234567"),
            "raw": b"\x00\x01bytes",
            "tags": ["a", 1, None, {"k": [True, MOMENT]}],
            "empty": {},
            "nothing": [],
            "timeline": [{"type": "request.submitted", "at": MOMENT, "data": {"x": 1.5, "#": "m"}}],
            "nested": {"b": {"c": {"d": "deep"}}, "a": 1},
        }
        for number in range(3)
    ]


@pytest.fixture(scope="module")
def client():
    with MongoClient(
        f"mongodb://127.0.0.1:{PROFILE['RATINGS_DB_PORT']}/", tz_aware=True, serverSelectionTimeoutMS=5000
    ) as connected:
        connected.drop_database(DATABASE)
        yield connected
        connected.drop_database(DATABASE)


def raw_rows(collection: str) -> dict[str, dict]:
    """The `_jsonb` of each stored document, by `_id`, straight from PostgreSQL."""
    table = pgindexes.table_names(postgres_url("ratings"), DATABASE)[collection]
    with psycopg.connect(postgres_url("ratings")) as connection:
        rows = connection.execute(
            sql.SQL("SELECT _jsonb FROM {}").format(sql.Identifier(DATABASE, table))
        ).fetchall()
    return {row[0]["_id"]: row[0] for row in rows}


def test_copied_rows_equal_what_the_wire_server_writes_and_read_back_the_same(client):
    database = client[DATABASE]
    database.create_collection("by_wire")
    database.create_collection("by_copy")
    database["by_wire"].insert_many(documents())
    sink = CopySink(postgres_url("ratings"), DATABASE)
    try:
        assert sink.insert("by_copy", documents()) == 3
    finally:
        sink.close()

    # The same jsonb, schema and key order included, as FerretDB's own encoding.
    assert raw_rows("by_copy") == raw_rows("by_wire")
    assert {key: json.loads(encode(doc)) for key, doc in ((d["_id"], d) for d in documents())} == raw_rows(
        "by_wire"
    )
    # And the documents read back through the wire server are the same, types included.
    wired = list(database["by_wire"].find({}, sort=[("_id", 1)]))
    copied = list(database["by_copy"].find({}, sort=[("_id", 1)]))
    assert copied == wired
    assert [list(doc) for doc in copied] == [list(doc) for doc in wired]
    assert isinstance(copied[0]["long"], Int64) and isinstance(copied[0]["big"], int)
    # Equality queries (the only ones the services issue) find copied documents.
    assert database["by_copy"].find_one({"count": 2})["title"].startswith("修水管")
    assert database["by_copy"].find_one({"at": MOMENT + timedelta(minutes=1)})["count"] == 1


def test_a_copy_that_breaks_the_unique_id_leaves_nothing_half_written(client):
    database = client[DATABASE]
    database.create_collection("unique_ids")
    sink = CopySink(postgres_url("ratings"), DATABASE)
    try:
        sink.insert("unique_ids", documents()[:1])
        with pytest.raises(psycopg.errors.UniqueViolation):
            sink.insert("unique_ids", documents()[1:] + documents()[:1])
        with pytest.raises(LookupError):
            sink.insert("never_created", documents())
    finally:
        sink.close()
    assert database["unique_ids"].count_documents({}) == 1


def test_values_json_cannot_hold_are_refused():
    for document in ({"x": float("nan")}, {"x": "a\x00b"}, {"$k": 1}, {"x": {1, 2}}):
        with pytest.raises((ValueError, TypeError)):
            encode(document)
