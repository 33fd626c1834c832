"""Tables: the narrow interface every read and write goes through, on the server or in memory.

A `Table` finds documents by **equality only**: a filter maps top-level field names to scalars
(or to an empty list). That is the shape FerretDB pushes down to SQL and an index serves on both
servers (DESIGN.md "Storage"); ranges, sorts and `$in` are for the caller to apply to the few
documents an equality selects. Filters with operators are refused here, before any server sees them.

`MongoBackend` maps a table to the pymongo collection of a mongoengine document class;
`MemoryBackend` keeps documents in dictionaries with the same semantics (unique `_id`, equality
that also matches an array holding the value, BSON's millisecond times), so use cases run in unit
tests without servers, in milliseconds.
"""

from __future__ import annotations

import contextlib
import copy
import secrets
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import mongoengine
from pymongo import ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError, DuplicateKeyError

Where = Mapping[str, Any]
SCALARS = (str, int, float, bool, datetime, type(None))
# FerretDB 1.24 skips a `$set` whose new value it finds equal to the stored one, and it finds two
# documents equal when their values are, whatever their keys: `{"due": 1}` → `{"missed": 1}` was
# silently not written (a rollup kept counting a missed visit as due). Every document value a
# MongoTable sets carries a fresh mark under this key, so no two are equal; reads take it out.
CHANGE_MARK = "#"


class AlreadyExists(Exception):
    """A document with this id (or unique key) is stored already."""


class QueryShapeError(ValueError):
    """A filter that no index could serve on FerretDB: operators, nested documents, dotted paths."""


def check_where(where: Where) -> None:
    """Refuse anything but top-level equality with a scalar (or an empty list)."""
    for name, value in where.items():
        if name.startswith("$") or "." in name:
            raise QueryShapeError(f"{name!r}: only top-level fields can be compared")
        if isinstance(value, SCALARS):
            continue
        if isinstance(value, list) and not value:
            continue
        raise QueryShapeError(f"{name!r}: only equality with a scalar is index-backed, not {value!r}")


class Table(Protocol):
    """What the stores do with one collection."""

    name: str

    def get(self, document_id: str, exclude: Sequence[str] = ()) -> dict[str, Any] | None: ...

    def find(
        self, where: Where, *, exclude: Sequence[str] = (), limit: int | None = None
    ) -> list[dict[str, Any]]: ...

    def count(self, where: Where) -> int: ...

    def insert(self, document: Mapping[str, Any]) -> None: ...

    def insert_many(self, documents: Sequence[Mapping[str, Any]]) -> set[Any]:
        """Insert each document whose id is free, in one round trip; return the ids that were taken."""
        ...

    def replace(self, document_id: str, document: Mapping[str, Any], *, upsert: bool = True) -> None: ...

    def update(
        self,
        where: Where,
        *,
        set: Mapping[str, Any] | None = None,
        unset: Sequence[str] = (),
        inc: Mapping[str, float] | None = None,
        push: Mapping[str, list[Any]] | None = None,
        pull_all: Mapping[str, list[Any]] | None = None,
    ) -> int: ...

    def delete(self, where: Where) -> int: ...

    def increment(self, document_id: str, field: str, by: int = 1) -> dict[str, Any]: ...


class Backend(Protocol):
    """Where tables live."""

    def table(self, document: type[mongoengine.Document]) -> Table: ...


# --- on the server -----------------------------------------------------------------------------------
def _marked(value: Any) -> Any:
    """A document value with a fresh change mark (see CHANGE_MARK); other values as they are."""
    return {**value, CHANGE_MARK: secrets.token_hex(6)} if isinstance(value, Mapping) else value


def _unmarked(document: Any) -> Any:
    """The document without the change marks of its top-level document values."""
    if document is not None:
        for value in document.values():
            if isinstance(value, dict):
                value.pop(CHANGE_MARK, None)
    return document


def _projection(exclude: Sequence[str]) -> dict[str, int] | None:
    return dict.fromkeys(exclude, 0) if exclude else None


class MongoTable:
    """A table on the service's MongoDB-wire server (FerretDB locally, MongoDB in deploy)."""

    def __init__(self, document: type[mongoengine.Document]) -> None:
        self.document = document
        self.name = document._get_collection_name()

    @property
    def collection(self) -> Collection:
        # Looked up on each use: tests and restarts reconnect mongoengine to other databases.
        return self.document._get_collection()

    def get(self, document_id: str, exclude: Sequence[str] = ()) -> dict[str, Any] | None:
        return _unmarked(self.collection.find_one({"_id": document_id}, _projection(exclude)))

    def find(
        self, where: Where, *, exclude: Sequence[str] = (), limit: int | None = None
    ) -> list[dict[str, Any]]:
        check_where(where)
        cursor = self.collection.find(dict(where), _projection(exclude))
        return [_unmarked(document) for document in (cursor.limit(limit) if limit else cursor)]

    def count(self, where: Where) -> int:
        check_where(where)
        return self.collection.count_documents(dict(where))

    def insert(self, document: Mapping[str, Any]) -> None:
        try:
            self.collection.insert_one(dict(document))
        except DuplicateKeyError as error:
            raise AlreadyExists(str(document.get("_id"))) from error

    def insert_many(self, documents: Sequence[Mapping[str, Any]]) -> set[Any]:
        if not documents:
            return set()
        try:
            self.collection.insert_many([dict(document) for document in documents], ordered=False)
            return set()
        except BulkWriteError as error:
            failures = error.details.get("writeErrors", [])
            if error.details.get("writeConcernErrors") or any(fail.get("code") != 11000 for fail in failures):
                raise  # not only taken ids: the caller's error handling runs
            return {documents[failure["index"]].get("_id") for failure in failures}

    def replace(self, document_id: str, document: Mapping[str, Any], *, upsert: bool = True) -> None:
        body = {key: value for key, value in document.items() if key != "_id"}
        try:
            self.collection.replace_one({"_id": document_id}, {"_id": document_id, **body}, upsert=upsert)
        except DuplicateKeyError as error:  # two upserts of a new id at once
            raise AlreadyExists(document_id) from error

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
        update: dict[str, Any] = {}
        if set:
            update["$set"] = {name: _marked(value) for name, value in set.items()}
        if unset:
            update["$unset"] = dict.fromkeys(unset, "")
        if inc:
            update["$inc"] = dict(inc)
        if push:
            update["$push"] = {name: {"$each": list(values)} for name, values in push.items()}
        if pull_all:
            update["$pullAll"] = {name: list(values) for name, values in pull_all.items()}
        if not update:
            return self.count(where)
        return self.collection.update_one(dict(where), update).matched_count

    def delete(self, where: Where) -> int:
        check_where(where)
        return self.collection.delete_many(dict(where)).deleted_count

    def increment(self, document_id: str, field: str, by: int = 1) -> dict[str, Any]:
        for _ in range(5):
            try:
                return self.collection.find_one_and_update(
                    {"_id": document_id},
                    {"$inc": {field: by}},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
            except DuplicateKeyError:
                # Two first increments upserted at once; it exists now, so the next try increments it.
                continue
        raise RuntimeError(f"counter {document_id} could not be advanced")


class MongoBackend:
    """Tables on the server mongoengine is connected to."""

    def table(self, document: type[mongoengine.Document]) -> Table:
        return MongoTable(document)


# --- in memory ---------------------------------------------------------------------------------------
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


_backend: Backend = MongoBackend()


def backend() -> Backend:
    """The backend in use by this process."""
    return _backend


def table(document: type[mongoengine.Document]) -> Table:
    """The table of a document kind, on the backend in use."""
    return _backend.table(document)


def use_backend(chosen: Backend) -> Backend:
    """Switch this process to `chosen`; returns the one it replaces."""
    global _backend
    previous, _backend = _backend, chosen
    return previous


@contextlib.contextmanager
def in_memory() -> Iterator[MemoryBackend]:
    """Run the block against a fresh in-memory backend (use-case unit tests)."""
    memory = MemoryBackend()
    previous = use_backend(memory)
    try:
        yield memory
    finally:
        use_backend(previous)
