"""The in-memory twin of the database's tables: what use-case unit tests run against.

It keeps to the same contract as `tables.MongoTable` (equality-only filters, the unique indexes a
document kind declares, values stored as BSON would give them back); `tables.in_memory()` uses it.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import mongoengine

from services.common.tables import SCALARS, AlreadyExists, Where, check_where


def _stored(value: Any) -> Any:
    """A copy of `value` as BSON would give it back: UTC times to the millisecond, tuples as lists."""
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    if isinstance(value, Mapping):
        return {key: _stored(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_stored(item) for item in value]
    if hasattr(value, "value") and not isinstance(value, SCALARS):  # an Enum stored by its value
        return value.value
    return copy.copy(value)


def _equal(stored: Any, wanted: Any) -> bool:
    if isinstance(wanted, list):  # only the empty list is allowed in filters
        return stored == wanted
    if isinstance(stored, list):
        return wanted in stored or stored == wanted
    if wanted is None:
        return stored is None
    return stored == _stored(wanted)


def _matches(document: Mapping[str, Any], where: Where) -> bool:
    return all(_equal(document.get(name), value) for name, value in where.items())


class MemoryTable:
    """A collection kept in a dictionary; thread-safe, with MongoDB's semantics for what stores use."""

    def __init__(self, name: str, unique: Sequence[tuple[str, ...]] = ()) -> None:
        self.name = name
        # The model's unique indexes besides `_id` (a notice's `source`): the server refuses a second.
        self.unique = list(unique)
        self.documents: dict[str, dict[str, Any]] = {}
        self.lock = threading.RLock()
        # Statements by shape, so tests can see what a use case asked for.
        self.queries: list[tuple[str, tuple[str, ...]]] = []

    def _out(self, document: Mapping[str, Any], exclude: Sequence[str]) -> dict[str, Any]:
        return {key: _stored(value) for key, value in document.items() if key not in exclude}

    def get(self, document_id: str, exclude: Sequence[str] = ()) -> dict[str, Any] | None:
        with self.lock:
            self.queries.append(("get", ("_id",)))
            found = self.documents.get(document_id)
            return self._out(found, exclude) if found is not None else None

    def find(
        self, where: Where, *, exclude: Sequence[str] = (), limit: int | None = None
    ) -> list[dict[str, Any]]:
        check_where(where)
        with self.lock:
            self.queries.append(("find", tuple(sorted(where))))
            found = [self._out(d, exclude) for d in self.documents.values() if _matches(d, where)]
        return found[:limit] if limit else found

    def count(self, where: Where) -> int:
        return len(self.find(where))

    def insert(self, document: Mapping[str, Any]) -> None:
        stored = _stored(document)
        with self.lock:
            if stored["_id"] in self.documents:
                raise AlreadyExists(str(stored["_id"]))
            for fields in self.unique:
                key = [stored.get(name) for name in fields]
                if all(value is None for value in key):
                    continue  # documents without the key (tests store some without it) are not compared
                if any(key == [d.get(name) for name in fields] for d in self.documents.values()):
                    raise AlreadyExists(f"{self.name}: {dict(zip(fields, key, strict=True))}")
            self.documents[stored["_id"]] = stored

    def insert_many(self, documents: Sequence[Mapping[str, Any]]) -> set[Any]:
        taken = set()
        for document in documents:
            try:
                self.insert(document)
            except AlreadyExists:
                taken.add(document.get("_id"))
        return taken

    def replace(self, document_id: str, document: Mapping[str, Any], *, upsert: bool = True) -> None:
        with self.lock:
            if document_id in self.documents or upsert:
                self.documents[document_id] = {**_stored(document), "_id": document_id}

    def update(
        self,
        where: Where,
        *,
        set: Mapping[str, Any] | None = None,
        unset: Sequence[str] = (),
        inc: Mapping[str, float] | None = None,
        push: Mapping[str, list[Any]] | None = None,
        pull_all: Mapping[str, list[Any]] | None = None,
    ) -> int:
        check_where(where)
        with self.lock:
            target = next((d for d in self.documents.values() if _matches(d, where)), None)
            if target is None:
                return 0
            for name, value in (set or {}).items():
                target[name] = _stored(value)
            for name in unset:
                target.pop(name, None)
            for name, amount in (inc or {}).items():
                target[name] = target.get(name, 0) + amount
            for name, values in (push or {}).items():
                target[name] = [*target.get(name, []), *_stored(values)]
            for name, values in (pull_all or {}).items():
                removed = _stored(values)
                target[name] = [item for item in target.get(name, []) if item not in removed]
            return 1

    def delete(self, where: Where) -> int:
        check_where(where)
        with self.lock:
            doomed = [key for key, d in self.documents.items() if _matches(d, where)]
            for key in doomed:
                del self.documents[key]
            return len(doomed)

    def increment(self, document_id: str, field: str, by: int = 1) -> dict[str, Any]:
        with self.lock:
            document = self.documents.setdefault(document_id, {"_id": document_id})
            document[field] = document.get(field, 0) + by
            return self._out(document, ())


class MemoryBackend:
    """Tables in this process's memory, one per collection name."""

    def __init__(self) -> None:
        self.tables: dict[str, MemoryTable] = {}
        self.lock = threading.Lock()

    def table(self, document: type[mongoengine.Document]) -> MemoryTable:
        name = document._get_collection_name()
        with self.lock:
            if name not in self.tables:
                unique = [
                    tuple(field for field, _direction in spec["fields"])
                    for spec in document._meta.get("index_specs") or []
                    if spec.get("unique")
                ]
                self.tables[name] = MemoryTable(name, unique)
            return self.tables[name]
