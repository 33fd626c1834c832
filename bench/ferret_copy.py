"""Bulk loading into FerretDB's own PostgreSQL tables with COPY, for the history the benches store.

FerretDB 1.24 on PostgreSQL keeps each collection in one table of a `_jsonb` column, in its
"sjson" format: the document's values as JSON plus a `$s` schema naming each value's BSON type and
the keys' order (internal/handler/sjson in its source). Inserting through the wire protocol decodes,
checks and re-encodes every document in Go, at about 2,000 documents/s here; COPY of the same rows
is an order of magnitude faster, so a million stored requests (about 13 million documents) load in
bounded time. The collection must exist (created through the wire server, so FerretDB's metadata
names its table); PostgreSQL keeps the indexes, the unique `_id` one included.

Only for loading benches and audits on the local stack: the services never write this way.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import psycopg
from bson import ObjectId
from bson.int64 import Int64
from psycopg import sql

from services.common import pgindexes

INT32 = range(-(2**31), 2**31)


def _schema(value: Any) -> dict[str, Any]:
    """The sjson schema of one value (what pymongo's BSON encoding would make of it)."""
    if isinstance(value, bool):
        return {"t": "bool"}
    if isinstance(value, Int64):
        return {"t": "long"}
    if isinstance(value, int):
        if value in INT32:
            return {"t": "int"}
        return {"t": "long"}
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r}: JSON has no such number")
        return {"t": "double"}
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("a NUL character cannot be stored in jsonb")
        return {"t": "string"}
    if value is None:
        return {"t": "null"}
    if isinstance(value, datetime):
        return {"t": "date"}
    if isinstance(value, ObjectId):
        return {"t": "objectId"}
    if isinstance(value, bytes):
        return {"t": "binData", "s": 0}
    if isinstance(value, Mapping):
        return {"t": "object", "$s": _document_schema(value)}
    if isinstance(value, list | tuple):
        return {"t": "array", "i": [_schema(item) for item in value]}
    raise TypeError(f"no sjson type for {type(value).__name__}")


def _document_schema(document: Mapping[str, Any]) -> dict[str, Any]:
    if not document:
        return {}
    return {"p": {key: _schema(item) for key, item in document.items()}, "$k": list(document)}


def _value(value: Any) -> Any:
    """The JSON representation of one value (its type is in the schema)."""
    if isinstance(value, datetime):
        return _millis(value if value.tzinfo else value.replace(tzinfo=UTC))  # naive means UTC, as in pymongo
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, Mapping):
        return {key: _value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_value(item) for item in value]
    return value


def _millis(moment: datetime) -> int:
    """Milliseconds since the epoch, truncated as BSON stores them."""
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def encode(document: Mapping[str, Any]) -> str:
    """A document as the `_jsonb` text FerretDB 1.24 itself would store for it."""
    for key in document:
        if key.startswith("$"):
            raise ValueError(f"field {key!r}: FerretDB reserves keys starting with $")
    return json.dumps({"$s": _document_schema(document), **_value(document)}, ensure_ascii=False)


class CopySink:
    """Writes documents of one database into FerretDB's tables with COPY, one connection per database."""

    def __init__(self, postgres_url: str, schema: str) -> None:
        self.postgres_url = postgres_url
        self.schema = schema
        self.connection = psycopg.connect(postgres_url, autocommit=True)
        self.tables = dict(pgindexes.table_names(postgres_url, schema))

    def table(self, collection: str) -> str:
        """The table behind `collection` (which the wire server must have created)."""
        if collection not in self.tables:
            self.tables = dict(pgindexes.table_names(self.postgres_url, self.schema))
        if collection not in self.tables:
            raise LookupError(f"{self.schema}.{collection} has no table: create it through the wire server")
        return self.tables[collection]

    def insert(self, collection: str, documents: Iterable[Mapping[str, Any]]) -> int:
        """Copy `documents` in; return how many went in (all of them, or an error and none)."""
        statement = sql.SQL("COPY {} (_jsonb) FROM STDIN").format(
            sql.Identifier(self.schema, self.table(collection))
        )
        count = 0
        with self.connection.transaction(), self.connection.cursor().copy(statement) as copy:
            for document in documents:
                copy.write_row((encode(document),))
                count += 1
        return count

    def close(self) -> None:
        self.connection.close()
