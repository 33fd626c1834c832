"""The one door to the database: stores of documents, their lists and their rollups.

Use cases and HTTP modules read and write only through a store (`DocumentStore`, or
`AggregateStore` for documents with a version and an outbox); the store goes through a `Table`
(services/common/tables.py), on the server or in memory. What holds everywhere is kept here once:

- every query is an equality on top-level fields (the table refuses anything else), so an index
  serves it on FerretDB and MongoDB alike; what is sorted, ranged or filtered further is the small
  set such an equality selects;
- every read-modify-write of an existing aggregate holds its lease (docs/adr/0005) and saves
  conditionally on the version it read; a state change and its events are one single-document
  update (the outbox);
- a list is walked newest first shelf by shelf (services/common/shelves.py): a store places a new
  document on the shelves its kind declares;
- counts and sums come from rollups (services/common/rollups.py): a store whose kind declares
  them flags the document in the same update that changes it and settles the rollups at once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import mongoengine

from services.common import locks, rollups, settling, shelves, tables
from services.common.conflicts import ConcurrencyConflict, retry_on_conflict
from services.common.ids import utcnow
from services.common.logs import get_logger
from services.common.shelves import Shelf, Walked

T = TypeVar("T")
AlreadyExists = tables.AlreadyExists
RollupsOf = Callable[[Mapping[str, Any], datetime], rollups.Contribution]
log = get_logger(__name__)
# Every store made, so a worker can finish the rollups a crash left pending for each kind it stores.
STORES: list[DocumentStore] = []

__all__ = [
    "AggregateDocument",
    "AggregateStore",
    "AlreadyExists",
    "ConcurrencyConflict",
    "DocumentStore",
    "RolledUpDocument",
    "Shelf",
    "Walked",
    "from_state",
    "holding",
    "retry_on_conflict",
    "to_state",
]


class RolledUpDocument(mongoengine.Document):
    """Fields of a document whose store keeps rollups: what it has applied, and whether that is pending."""

    meta = {"abstract": True}

    rollups_applied = mongoengine.DictField()
    rollups_pending = mongoengine.BooleanField(default=False)


class AggregateDocument(RolledUpDocument):
    """Fields every aggregate carries: its version and the events waiting to be published."""

    meta = {"abstract": True}

    version = mongoengine.IntField(required=True, default=1)
    outbox = mongoengine.ListField(mongoengine.DictField(), default=list)
    outbox_pending = mongoengine.BooleanField(default=False)


def _declared(document: type[mongoengine.Document]) -> set[str]:
    fields = {"_id"}
    for spec in document._meta.get("index_specs") or []:
        fields.update(name for name, _direction in spec["fields"])
    return fields


class DocumentStore:
    """Reads and writes one kind of document, by id or by equality, through the backend in use."""

    def __init__(
        self,
        document: type[mongoengine.Document],
        *,
        shelves: Sequence[Shelf] = (),
        rollups: RollupsOf | None = None,
        hidden: tuple[str, ...] = ("outbox",),
        settle_inserts_later: bool = False,
    ) -> None:
        self.document = document
        self.shelves = {shelf.name: shelf for shelf in shelves}
        self.rollups = rollups
        # A new document's rollups left to the worker's sweep, which settles many in one pass: for the
        # hot insert of a busy web path, whose own settling took most of its time (docs/adr/0064).
        self.settle_inserts_later = settle_inserts_later
        self.hidden = hidden
        declared = _declared(document)
        needed = {shelf.field for shelf in shelves} | ({"rollups_pending"} if rollups else set())
        if missing := needed - declared:
            # What a store queries must be indexed; the model is where indexes are declared.
            raise TypeError(f"{document.__name__} must declare indexes on {sorted(missing)}")
        STORES.append(self)

    @property
    def table(self) -> tables.Table:
        """The table behind the document kind, on the backend in use."""
        return tables.table(self.document)

    @property
    def name(self) -> str:
        """The collection's name."""
        return self.document._get_collection_name()

    # --- reading ---------------------------------------------------------------------------------
    def get(self, document_id: str) -> dict[str, Any] | None:
        """The stored document, or None."""
        return self.table.get(document_id, exclude=self.hidden)

    def get_many(self, document_ids: Iterable[str]) -> list[dict[str, Any]]:
        """The stored documents of these ids, in their order: one lookup by id each, never `$in`."""
        found = (self.get(document_id) for document_id in document_ids)
        return [document for document in found if document is not None]

    def exists(self, document_id: str) -> bool:
        """Whether a document with this id is stored."""
        return self.table.get(document_id, exclude=self.hidden) is not None

    def find(self, **where: Any) -> list[dict[str, Any]]:
        """Every document equal to `where` on its fields; the equality must select a small set."""
        return self.table.find(where, exclude=self.hidden)

    def find_where(self, where: Mapping[str, Any], limit: int | None = None) -> list[dict[str, Any]]:
        """`find` for field names that are not Python names."""
        return self.table.find(where, exclude=self.hidden, limit=limit)

    def find_one(self, **where: Any) -> dict[str, Any] | None:
        """One document equal to `where`, or None."""
        found = self.table.find(where, exclude=self.hidden, limit=1)
        return found[0] if found else None

    def count(self, **where: Any) -> int:
        """How many documents equal `where` (the same index-backed equality as `find`)."""
        return self.table.count(where)

    def page(
        self,
        shelf: str,
        key: str,
        *,
        limit: int,
        before: str | None = None,
        accept: Callable[[Mapping[str, Any]], bool] | None = None,
    ) -> Walked:
        """A page of the list `key` on shelf `shelf`, newest first (services/common/shelves.py)."""
        return shelves.walk(
            self.table,
            self.shelves[shelf],
            key,
            limit=limit,
            before=before,
            accept=accept,
            exclude=self.hidden,
        )

    # --- writing ---------------------------------------------------------------------------------
    def _placed(self, document: Mapping[str, Any]) -> dict[str, Any]:
        placed = dict(document)
        for shelf in self.shelves.values():
            if (value := shelves.place(self.name, shelf, placed)) is not None:
                placed[shelf.field] = value
        if self.rollups is not None:
            placed["rollups_applied"] = {}
            placed["rollups_pending"] = True
        return placed

    def add(self, document: Mapping[str, Any]) -> None:
        """Store a new document (on its shelves); `AlreadyExists` when its id is taken."""
        placed = self._placed(document)
        self.table.insert(placed)
        if not self.settle_inserts_later:
            self.settle(placed["_id"])

    def _reshelve(self, document: Mapping[str, Any]) -> None:
        """Put a changed document on the lists its fields now name (a team's task once a member serves)."""
        moved = {}
        for shelf in self.shelves.values():
            stored = document.get(shelf.field)
            if shelf.key(document) != (stored.rsplit("|", 1)[0] if stored else None):
                moved[shelf.field] = shelves.place(self.name, shelf, document)
        if moved:
            self.table.update({"_id": document["_id"]}, set=moved)

    def _written(self, document_id: str) -> None:
        """What follows a change: the lists it belongs on, its rollups (one read for both)."""
        if not self.shelves and self.rollups is None:
            return
        with self.locked(document_id) if self.rollups is not None else contextlib.nullcontext():
            document = self.table.get(document_id, exclude=("outbox",))
            if document is None:
                return
            if self.shelves:
                self._reshelve(document)
            self._settle_document(document)

    def put(self, document_id: str, document: Mapping[str, Any]) -> None:
        """Store the whole document under this id, replacing what was there (read models, settings)."""
        if self.shelves or self.rollups:
            raise TypeError(f"{self.name}: documents on lists or in rollups are added and changed, not put")
        self.table.replace(document_id, document)

    def set(
        self, document_id: str, changes: Mapping[str, Any], *, where: Mapping[str, Any] | None = None
    ) -> bool:
        """Set fields of one document (if it also equals `where`); whether it matched."""
        fields = {key: value for key, value in changes.items() if key not in ("_id", "id")}
        if self.rollups is not None:
            fields["rollups_pending"] = True
        matched = self.table.update({**(where or {}), "_id": document_id}, set=fields)
        if matched:
            self._written(document_id)
        return bool(matched)

    def remove(self, document_id: str, **where: Any) -> bool:
        """Delete one document (if it also equals `where`)."""
        return self.table.delete({**where, "_id": document_id}) > 0

    def increment(self, document_id: str, field: str, by: int = 1) -> dict[str, Any]:
        """Add to a counter field, creating the document; the document after (not atomic on FerretDB)."""
        return self.table.increment(document_id, field, by)

    @contextlib.contextmanager
    def locked(self, document_id: str) -> Iterator[None]:
        """Hold this document's lease while reading, deciding and saving it."""
        with locks.locked(f"{self.name}:{document_id}"):
            yield

    # --- rollups ---------------------------------------------------------------------------------
    def settle(self, document_id: str) -> None:
        """Bring the rollups in line with the document as stored now, then clear its flag."""
        if self.rollups is None:
            return
        with self.locked(document_id):
            document = self.table.get(document_id, exclude=("outbox",))
            if document is not None:
                self._settle_document(document)

    def _settle_document(self, document: Mapping[str, Any]) -> None:
        if self.rollups is None:
            return
        desired = self.rollups(document, utcnow())
        applied = document.get("rollups_applied") or {}
        if desired != applied:
            rollups.apply(rollups.member_key(self.name, document["_id"]), applied, desired)
        if desired != applied or document.get("rollups_pending"):
            self.table.update(
                {"_id": document["_id"]}, set={"rollups_applied": desired, "rollups_pending": False}
            )

    def settle_pending(self, batch: int = settling.BATCH) -> int:
        """Settle every document left flagged (new ones left for later, or a crash's); return how many."""
        if self.rollups is None:
            return 0
        settled = 0
        while pending := self.table.find({"rollups_pending": True}, exclude=("outbox",), limit=batch):
            settled += settling.settle_together(self, pending)
            if len(pending) < batch:
                break
        return settled


class AggregateStore(DocumentStore):
    """Reads and conditionally writes one kind of aggregate document (version and outbox)."""

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
        self.add(document)

    def save(
        self,
        aggregate_id: str,
        expected_version: int,
        changes: Mapping[str, Any],
        events: list[dict[str, Any]],
    ) -> None:
        """Apply `changes` and queue `events` if the version is still `expected_version`."""
        fields = {key: value for key, value in changes.items() if key not in ("id", "_id", "version")}
        if events:
            fields["outbox_pending"] = True
        if self.rollups is not None:
            fields["rollups_pending"] = True
        matched = self.table.update(
            {"_id": aggregate_id, "version": expected_version},
            set=fields,
            inc={"version": 1},
            push={"outbox": list(events)} if events else None,
        )
        if matched == 0:
            raise ConcurrencyConflict(
                f"{self.document.__name__} {aggregate_id} changed since version {expected_version}"
            )
        self._written(aggregate_id)


def settle_pending(documents: Iterable[type[mongoengine.Document]], *, inserts_later: bool) -> int:
    """Settle what is left pending in the stores of these document kinds that do (or do not) leave
    their new documents' rollups for later; return how many documents were settled."""
    kinds = set(documents)
    return sum(
        store.settle_pending()
        for store in STORES
        if store.document in kinds and store.settle_inserts_later == inserts_later
    )


def holding(store: DocumentStore, key: Callable[..., str]) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Run a use case while holding the lease of the document `key(*args)` names; retry conflicts."""

    def decorate(use_case: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(use_case)
        def run(*args: Any, **kwargs: Any) -> T:
            with store.locked(key(*args, **kwargs)):
                return use_case(*args, **kwargs)

        return retry_on_conflict()(run)

    return decorate


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
