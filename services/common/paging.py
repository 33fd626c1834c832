"""Paged lists, newest first: one query shape and one page shape for every list the services serve."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from pymongo import DESCENDING
from pymongo.collection import Collection

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


def newest_first(
    collection: Collection,
    query: Mapping[str, Any],
    *,
    limit: int,
    before: str | None = None,
    projection: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Up to `limit` documents matching `query` with ids below `before`, newest (highest id) first.

    Ids are ULIDs, so id order is creation order.
    """
    selector = dict(query)
    if before:
        selector["_id"] = {"$lt": before}
    cursor = collection.find(selector, dict(projection) if projection is not None else None)
    return list(cursor.sort([("_id", DESCENDING)]).limit(limit))


def next_before(items: Sequence[T], limit: int, key: Callable[[T], str]) -> str | None:
    """The cursor of the next page: the last item's id when the page is full, else None."""
    return key(items[-1]) if items and len(items) == limit else None


def page_of(items: Sequence[T], limit: int, key: Callable[[T], str]) -> dict[str, Any]:
    """A page body: the items and the cursor of the next page."""
    return {"items": list(items), "next_before": next_before(items, limit, key)}
