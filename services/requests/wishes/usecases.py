"""Micro-wishes stored as orders: post one, read one, read the wall."""

from __future__ import annotations

from typing import Any

from services.common.domain import Missing
from services.common.paging import Listed
from services.requests.orders import usecases
from services.requests.orders.domain import ServiceRequest, Submission
from services.requests.orders.models import from_document, requests_store
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
    document = requests_store.get(wish_id)
    if document is None or document.get("source") != "wish":
        raise UnknownWish("no wish with that id")
    return from_document(document)


def list_wishes(
    *, state: str | None, township: str | None, limit: int, before: str | None
) -> Listed[ServiceRequest]:
    """The wall, newest first, walked shelf by shelf; withdrawn wishes only when asked for."""
    states = [state] if state else ON_THE_WALL
    statuses = {status.value for name in states for status in WALL[name]}

    def accept(document: dict[str, Any]) -> bool:
        return document.get("status") in statuses and (not township or document.get("township") == township)

    walked = requests_store.page("wishes", "wishes", limit=limit, before=before, accept=accept)
    return Listed([from_document(document) for document in walked.items], walked.next_before)
