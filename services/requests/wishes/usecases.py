"""Micro-wishes stored as orders: post one, read one, read the wall."""

from __future__ import annotations

from typing import Any

from services.common.domain import Missing
from services.common.paging import newest_first
from services.requests.orders import usecases
from services.requests.orders.domain import ServiceRequest, Submission
from services.requests.orders.models import RequestDocument, from_document
from services.requests.wishes.domain import ON_THE_WALL, WALL


class UnknownWish(Missing):
    """No wish with that id."""


def post_wish(
    wish: Submission, idempotency_key: str | None, causation_id: str, body_print: str | None = None
) -> usecases.Submitted:
    """Post a wish: one order, written once, announced by its own `request.submitted`."""
    return usecases.submit_request(wish, idempotency_key, causation_id, body_print=body_print)


def get_wish(wish_id: str) -> ServiceRequest:
    """A wish (the order itself); `UnknownWish` when the id names no wish."""
    document = RequestDocument._get_collection().find_one({"_id": wish_id, "source": "wish"}, {"outbox": 0})
    if document is None:
        raise UnknownWish("no wish with that id")
    return from_document(document)


def list_wishes(
    *, state: str | None, township: str | None, limit: int, before: str | None
) -> list[ServiceRequest]:
    """The wall, newest first; withdrawn wishes only when asked for."""
    states = [state] if state else ON_THE_WALL
    query: dict[str, Any] = {
        "source": "wish",
        "status": {"$in": [status.value for name in states for status in WALL[name]]},
    }
    if township:
        query["township"] = township
    found = newest_first(
        RequestDocument._get_collection(), query, limit=limit, before=before, projection={"outbox": 0}
    )
    return [from_document(document) for document in found]
