"""Storage mechanisms that need no server: index names and fields, sweep buckets, settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import mongoengine

from services.common import pgindexes, sweeps
from services.common.settings import load_settings


class Nested(mongoengine.Document):
    meta = {
        "collection": "nested_under_test",
        "indexes": ["beneficiary.township", ["kind", "-placed_at"], {"fields": ["code"], "unique": True}],
    }
    id = mongoengine.StringField(primary_key=True)
    kind = mongoengine.StringField()
    code = mongoengine.StringField()
    placed_at = mongoengine.DateTimeField()
    beneficiary = mongoengine.DictField()


def test_every_declared_top_level_field_and_the_id_are_indexed_but_no_dotted_path():
    # FerretDB never pushes a dotted path down to SQL, so an index on it would never be used.
    assert pgindexes.declared_fields(Nested) == {"_id", "kind", "placed_at", "code"}


def test_index_names_are_stable_short_distinct_and_ours():
    table = "a_very_long_collection_name_for_a_table_1234abcd"
    name = pgindexes.index_name(table, "idempotency_scope")
    assert len(name) <= 63 and name.endswith(pgindexes.SUFFIX) and not name.endswith("_idx")
    assert name == pgindexes.index_name(table, "idempotency_scope")
    assert name != pgindexes.index_name(table, "idempotency_scopf")


def test_a_bucket_is_the_utc_minute():
    china = timezone(timedelta(hours=8))
    assert sweeps.bucket(datetime(2026, 11, 30, 13, 41, 59, tzinfo=china)) == "2026-11-30T05:41"
    assert sweeps.bucket(datetime(2026, 11, 30, 5, 41)) == "2026-11-30T05:41"  # naive = UTC, as BSON
    assert sweeps.bucket(datetime(2026, 11, 30, 5, 42, tzinfo=UTC)) > "2026-11-30T05:41"


def test_the_postgres_url_comes_from_the_services_own_variable(monkeypatch):
    monkeypatch.setenv("DISPATCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:1/ferretdb_dispatch")
    monkeypatch.delenv("RATINGS_POSTGRES_URL", raising=False)
    load_settings.cache_clear()
    try:
        assert load_settings("dispatch").postgres_url.endswith("/ferretdb_dispatch")
        assert load_settings("ratings").postgres_url == ""  # MongoDB: nothing but ordinary indexes
    finally:
        load_settings.cache_clear()
