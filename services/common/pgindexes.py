"""Indexes FerretDB's SQL can use, made from the indexes the models declare (docs/adr/0070).

FerretDB 1.24 on PostgreSQL turns a top-level equality into `WHERE _jsonb->$1 @> $2` and creates
btree indexes for `create_index`, which PostgreSQL never chooses for `@>`. A GIN `jsonb_path_ops`
index on `(_jsonb -> 'field')` is chosen once the plan is custom (the cluster runs with
`plan_cache_mode = force_custom_plan`). This module gives every collection such an index for `_id`
and for each field of each index its model declares, in the PostgreSQL database behind the wire
server, and drops the ones no declaration asks for any more.

It runs only where a setting names that PostgreSQL database (local and test profiles); on MongoDB
the declared indexes are ordinary indexes and this module is never called.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import mongoengine
import psycopg
from psycopg import sql
from pymongo.database import Database
from pymongo.errors import CollectionInvalid, OperationFailure

# FerretDB names its own indexes `<table>_<name>_<hash>_idx`; ours end differently, so the two
# never collide and ours can be told apart.
SUFFIX = "_clgin"
METADATA_TABLE = "_ferretdb_database_metadata"
_NAME_LIMIT = 63
CREATE = sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING gin ((_jsonb -> {}) jsonb_path_ops)")
DROP = sql.SQL("DROP INDEX IF EXISTS {}")


@dataclass
class SyncReport:
    """What one synchronisation changed."""

    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    analyzed: list[str] = field(default_factory=list)


def declared_fields(document: type[mongoengine.Document]) -> set[str]:
    """`_id` and every top-level field named by an index the document declares."""
    fields = {"_id"}
    for spec in document._meta.get("index_specs") or []:
        for name, _direction in spec["fields"]:
            # A dotted path is not pushed down to SQL by FerretDB, so an index on it would never be used.
            if "." not in name and not name.startswith("$"):
                fields.add(name)
    return fields


def wanted_fields(documents: Iterable[type[mongoengine.Document]]) -> dict[str, set[str]]:
    """Collection name → the fields that get an index."""
    wanted: dict[str, set[str]] = {}
    for document in documents:
        if document._meta.get("abstract"):
            continue
        wanted.setdefault(document._get_collection_name(), set()).update(declared_fields(document))
    return wanted


def index_name(table: str, field_name: str) -> str:
    """A stable PostgreSQL index name for (table, field), unique within the schema."""
    digest = hashlib.sha1(f"{table}\0{field_name}".encode()).hexdigest()[:8]
    slug = re.sub(r"[^a-z0-9]+", "_", field_name.lower()).strip("_") or "f"
    room = _NAME_LIMIT - len(SUFFIX) - len(digest) - 2
    table_part = table[: room // 2]
    field_part = slug[: room - len(table_part)]
    return f"{table_part}_{field_part}_{digest}{SUFFIX}"


def ensure_collections(database: Database, names: Iterable[str]) -> None:
    """Create collections that do not exist yet, so their tables (and indexes) exist from the start."""
    existing = set(database.list_collection_names())
    for name in sorted(set(names) - existing):
        # Another process may have created it first.
        with contextlib.suppress(CollectionInvalid, OperationFailure):
            database.create_collection(name)


def sync(postgres_url: str, schema: str, documents: Sequence[type[mongoengine.Document]]) -> SyncReport:
    """Create the missing indexes of `documents` in `schema` and drop ours that nothing declares."""
    lock_key = f"civicloop-indexes:{schema}"
    with psycopg.connect(postgres_url, autocommit=True, connect_timeout=5) as connection:
        # Two workers of one service start at once in some tests: one of them does the work.
        connection.execute("SELECT pg_advisory_lock(hashtext(%s))", (lock_key,))
        try:
            return _sync(connection, schema, wanted_fields(documents))
        finally:
            connection.execute("SELECT pg_advisory_unlock(hashtext(%s))", (lock_key,))


def _sync(connection: psycopg.Connection, schema: str, wanted: Mapping[str, set[str]]) -> SyncReport:
    report = SyncReport()
    tables = _tables(connection, schema)
    existing = _our_indexes(connection, schema)
    wanted_names = {
        index_name(tables[collection], field_name): (tables[collection], field_name)
        for collection, fields in wanted.items()
        if collection in tables
        for field_name in fields
    }
    touched: set[str] = set()
    for name, (table, field_name) in sorted(wanted_names.items()):
        if name not in existing:
            target = sql.Identifier(schema, table)
            connection.execute(CREATE.format(sql.Identifier(name), target, sql.Literal(field_name)))
            report.created.append(f"{table}.{field_name}")
            touched.add(table)
    # Only the tables of the collections declared here: another process may own the others.
    ours = {tables[collection] for collection in wanted if collection in tables}
    for name, table in sorted(existing.items()):
        if table in ours and name not in wanted_names:
            connection.execute(DROP.format(sql.Identifier(schema, name)))
            report.dropped.append(name)
    for table in sorted(touched):
        # The planner knows the values of an indexed expression only after ANALYZE.
        connection.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, table)))
        report.analyzed.append(table)
    return report


def _tables(connection: psycopg.Connection, schema: str) -> dict[str, str]:
    """Collection name → table name, from FerretDB's metadata table of the schema."""
    exists = connection.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
        (schema, METADATA_TABLE),
    ).fetchone()
    if not exists:
        return {}
    query = sql.SQL("SELECT _jsonb->>'_id', _jsonb->>'table' FROM {}")
    rows = connection.execute(query.format(sql.Identifier(schema, METADATA_TABLE))).fetchall()
    return {collection: table for collection, table in rows}


def _our_indexes(connection: psycopg.Connection, schema: str) -> dict[str, str]:
    """Index name → table name of the indexes this module made in the schema."""
    rows = connection.execute(
        "SELECT indexname, tablename FROM pg_indexes WHERE schemaname = %s AND right(indexname, %s) = %s",
        (schema, len(SUFFIX), SUFFIX),
    ).fetchall()
    return dict(rows)


def table_names(postgres_url: str, schema: str) -> Mapping[str, str]:
    """Collection name → table name (for tools that read PostgreSQL's statistics)."""
    with psycopg.connect(postgres_url, autocommit=True, connect_timeout=5) as connection:
        return _tables(connection, schema)
