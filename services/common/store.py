"""Aggregates persisted with their outbox: each state change and its events in one document update.

A document kind that uses this store carries `version`, `outbox` and `outbox_pending`
(see `AggregateDocument`). Saves are conditional on the version read, so two writers never
interleave; the relay removes published events with `$pull`, which never touches the version.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import mongoengine
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from services.common import deadlines, locks

T = TypeVar("T")


class AggregateDocument(mongoengine.Document):
    """Fields every aggregate carries: its version and the events waiting to be published."""

    meta = {"abstract": True}

    version = mongoengine.IntField(required=True, default=1)
    outbox = mongoengine.ListField(mongoengine.DictField(), default=list)
    outbox_pending = mongoengine.BooleanField(default=False)


class ConcurrencyConflict(Exception):
    """Someone else saved the aggregate since it was read; read again and decide again."""


class AlreadyExists(Exception):
    """An aggregate with this id is stored already."""


class AggregateStore:
    """Reads and conditionally writes one kind of aggregate document."""

    def __init__(self, document: type[AggregateDocument]) -> None:
        self.document = document

    @property
    def collection(self) -> Collection:
        """The pymongo collection behind the document class."""
        return self.document._get_collection()

    @contextlib.contextmanager
    def locked(self, aggregate_id: str) -> Iterator[None]:
        """Hold this aggregate's lease while reading, deciding and saving it."""
        with locks.locked(f"{self.collection.name}:{aggregate_id}"):
            yield

    def get(self, aggregate_id: str) -> dict[str, Any] | None:
        """The stored document, or None."""
        return self.collection.find_one({"_id": aggregate_id}, {"outbox": 0})

    def insert(self, aggregate_id: str, state: Mapping[str, Any], events: list[dict[str, Any]]) -> None:
        """Store a new aggregate with its first events; `AlreadyExists` when the id is taken."""
        document = {
            **state,
            "_id": aggregate_id,
            "version": 1,
            "outbox": list(events),
            "outbox_pending": bool(events),
        }
        document.pop("id", None)
        try:
            self.collection.insert_one(document)
        except DuplicateKeyError as error:
            raise AlreadyExists(aggregate_id) from error

    def save(
        self,
        aggregate_id: str,
        expected_version: int,
        changes: Mapping[str, Any],
        events: list[dict[str, Any]],
    ) -> None:
        """Apply `changes` and queue `events` if the version is still `expected_version`."""
        update: dict[str, Any] = {"$inc": {"version": 1}}
        fields = {key: value for key, value in changes.items() if key not in ("id", "_id", "version")}
        if events:
            fields["outbox_pending"] = True
            update["$push"] = {"outbox": {"$each": list(events)}}
        if fields:
            update["$set"] = fields
        result = self.collection.update_one({"_id": aggregate_id, "version": expected_version}, update)
        if result.matched_count == 0:
            raise ConcurrencyConflict(
                f"{self.document.__name__} {aggregate_id} changed since version {expected_version}"
            )


def holding(store: AggregateStore, key: Callable[..., str]) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Run a use case while holding the lease of the aggregate `key(*args)` names; retry conflicts."""

    def decorate(use_case: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(use_case)
        def run(*args: Any, **kwargs: Any) -> T:
            with store.locked(key(*args, **kwargs)):
                return use_case(*args, **kwargs)

        return retry_on_conflict()(run)

    return decorate


def retry_on_conflict(attempts: int = 8) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Re-run a read-decide-save function when another writer got there first."""
    from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_random_exponential

    return retry(
        retry=retry_if_exception_type((ConcurrencyConflict, locks.LockTimeout)),
        # An HTTP request retries only while its deadline allows (services/common/deadlines.py).
        stop=stop_after_attempt(attempts) | _out_of_time,
        wait=wait_random_exponential(multiplier=0.005, max=0.2),
        reraise=True,
    )


def _out_of_time(_state: object) -> bool:
    left = deadlines.remaining()
    return left is not None and left <= 0


def to_state(aggregate: Any) -> dict[str, Any]:
    """The stored fields of a dataclass aggregate: everything but its id and version."""
    state = dataclasses.asdict(aggregate)
    state.pop("id", None)
    state.pop("version", None)
    return {key: (value.value if isinstance(value, enum.Enum) else value) for key, value in state.items()}


def from_state(cls: type[T], document: Mapping[str, Any], **converters: Callable[[Any], Any]) -> T:
    """A dataclass aggregate from its stored document; `converters` turn stored values back into types."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    values = {name: document[name] for name in names if name in document and name != "id"}
    values["id"] = document["_id"]
    for name, convert in converters.items():
        if values.get(name) is not None:
            values[name] = convert(values[name])
    return cls(**values)
