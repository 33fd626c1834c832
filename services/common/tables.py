"""Tables: the narrow interface every read and write goes through, on the server or in memory.

A `Table` finds documents by **equality only**: a filter maps top-level field names to scalars
(or to an empty list). That is the shape FerretDB pushes down to SQL and an index serves on both
servers (DESIGN.md "Storage"); ranges, sorts and `$in` are for the caller to apply to the few
documents an equality selects. Filters with operators are refused here, before any server sees them.

`MongoBackend` maps a table to the pymongo collection of a mongoengine document class;
`memory_tables.MemoryBackend` keeps documents in dictionaries with the same semantics (unique `_id`,
equality that also matches an array holding the value, BSON's millisecond times), so use cases run
in unit tests without servers, in milliseconds.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import mongoengine
from pymongo import ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError, DuplicateKeyError

if TYPE_CHECKING:
    from services.common.memory_tables import MemoryBackend

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
    from services.common.memory_tables import MemoryBackend

    memory = MemoryBackend()
    previous = use_backend(memory)
    try:
        yield memory
    finally:
        use_backend(previous)
