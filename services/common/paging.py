"""Paged lists, newest first: one query shape and one page shape for every list the services serve.

A list is walked shelf by shelf (services/common/shelves.py); a page's `next_before` is the id to
go on from. A filtered page may hold fewer items than asked for and still have a `next_before`:
only a null `next_before` says the list has no more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")
ItemView = TypeVar("ItemView")


class PageQuery(BaseModel):
    """Newest first; pass the page's `next_before` as `before` to get the next page."""

    limit: int = Field(20, ge=1, le=100)
    before: str | None = Field(None, max_length=64)


class Page(BaseModel, Generic[ItemView]):
    """One page of a list; `next_before` is null on the last page."""

    items: list[ItemView]
    next_before: str | None = None


def next_before(items: Sequence[T], limit: int, key: Callable[[T], str]) -> str | None:
    """The cursor of the next page: the last item's id when the page is full, else None."""
    return key(items[-1]) if items and len(items) == limit else None


def page_of(items: Sequence[T], limit: int, key: Callable[[T], str]) -> dict[str, Any]:
    """A page body: the items and the cursor of the next page."""
    return {"items": list(items), "next_before": next_before(items, limit, key)}


class Listed(Generic[T]):
    """A use case's page: its items and the cursor a walk of shelves ended at (None: no more)."""

    def __init__(self, items: list[T], next_before: str | None) -> None:
        self.items = items
        self.next_before = next_before

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> T:
        return self.items[index]

    def body(self, view: Callable[[T], Any]) -> dict[str, Any]:
        """A page body with each item turned into its view."""
        return {"items": [view(item) for item in self.items], "next_before": self.next_before}


def listed_from(
    documents: Sequence[Mapping[str, Any]],
    *,
    limit: int,
    before: str | None,
    build: Callable[[Mapping[str, Any]], T],
) -> Listed[T]:
    """A page of the few documents one equality selected: newest (highest id) first, below `before`."""
    ordered = sorted(
        (d for d in documents if not before or d["_id"] < before), key=lambda d: d["_id"], reverse=True
    )
    items = [build(document) for document in ordered[:limit]]
    return Listed(items, ordered[limit - 1]["_id"] if len(ordered) > limit else None)
