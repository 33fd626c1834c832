"""Shelves: lists walked newest first, fifty documents per equality, however long the history.

A list (a resident's requests, a township's follow-ups, a volunteer's tasks) is a key; each document
on it gets a position from the key's counter when it is stored, and carries its shelf,
`<key>|<position // 50>`, in a field of its own. A page reads the newest shelf by equality (an index
serves it on both servers), sorts those few documents by id and goes on to the next older shelf
until the page is full. The cost of a page does not depend on how many documents the list holds.

Positions grow from 0 upwards as documents are stored (`top`); history loaded in bulk goes below 0
(`bottom`). On FerretDB the counter's increment is not atomic, so two documents stored at once may
share a position: a shelf then holds a few more than fifty, which changes nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import mongoengine

from services.common import tables

SIZE = 50
# A filtered walk reads at most this many shelves per page, so a rare filter value costs a bounded
# amount: the page may then be short, with a cursor to go on from.
MAX_SHELVES = 8


class ShelfCounter(mongoengine.Document):
    """How many documents a list holds: positions `bottom` … `top - 1`."""

    meta = {"collection": "shelves"}

    id = mongoengine.StringField(primary_key=True)
    top = mongoengine.IntField()
    bottom = mongoengine.IntField()


@dataclass(frozen=True)
class Shelf:
    """A list documents belong to: its name, and the key a document's fields give it (None: not on it)."""

    name: str
    key: Callable[[Mapping[str, Any]], str | None]

    @property
    def field(self) -> str:
        """The document field holding its shelf on this list."""
        return f"{self.name}_shelf"


def counter_id(collection: str, shelf: Shelf, key: str) -> str:
    """The id of a list's counter."""
    return f"{collection}:{shelf.name}:{key}"


def label(key: str, number: int) -> str:
    """The stored value naming shelf `number` of list `key`."""
    return f"{key}|{number}"


def number_of(value: str) -> int:
    """The shelf number in a stored shelf value."""
    return int(value.rsplit("|", 1)[1])


def place(collection: str, shelf: Shelf, document: Mapping[str, Any]) -> str | None:
    """The shelf a new document goes on (advancing its list's counter), or None when it is on no list."""
    key = shelf.key(document)
    if key is None:
        return None
    counter = tables.table(ShelfCounter).increment(counter_id(collection, shelf, key), "top")
    return label(key, (counter["top"] - 1) // SIZE)


@dataclass(frozen=True)
class Walked:
    """A page of a list and the cursor of the next one (None when the list has no more)."""

    items: list[dict[str, Any]]
    next_before: str | None


def walk(
    table: tables.Table,
    shelf: Shelf,
    key: str,
    *,
    limit: int,
    before: str | None = None,
    accept: Callable[[Mapping[str, Any]], bool] | None = None,
    exclude: tuple[str, ...] = ("outbox",),
    max_shelves: int = MAX_SHELVES,
) -> Walked:
    """Up to `limit` documents of the list, newest first, below the cursor `before` and `accept`ed."""
    counter = tables.table(ShelfCounter).get(counter_id(table.name, shelf, key))
    if counter is None:
        return Walked([], None)
    top = (int(counter.get("top") or 0) - 1) // SIZE
    bottom = int(counter.get("bottom") or 0) // SIZE
    start, known = top, False
    if before:
        cursor = table.get(before)
        stored = cursor.get(shelf.field) if cursor else None
        if stored and stored.rsplit("|", 1)[0] == key:
            # Ids are compared on the cursor's own shelf; older shelves are read whole, so a document
            # stored a moment out of order at a shelf's edge is neither skipped nor shown twice.
            start, known = number_of(stored), True
    items: list[dict[str, Any]] = []
    oldest_seen: str | None = None
    read = 0
    for number in range(start, bottom - 1, -1):
        if read == max_shelves:
            return Walked(items, oldest_seen)
        read += 1
        found = table.find({shelf.field: label(key, number)}, exclude=exclude)
        # An unknown cursor (not on this list) is compared with every id.
        compare = before if before and (number == start or not known) else None
        for document in sorted(found, key=lambda d: d["_id"], reverse=True):
            if compare is not None and document["_id"] >= compare:
                continue
            oldest_seen = document["_id"]
            if accept is None or accept(document):
                items.append(document)
                if len(items) == limit:
                    return Walked(items, document["_id"])
    return Walked(items, None)


def set_range(collection: str, shelf: Shelf, key: str, *, top: int, bottom: int) -> dict[str, Any]:
    """A counter document as a bulk loader writes it."""
    return {"_id": counter_id(collection, shelf, key), "top": top, "bottom": bottom}
