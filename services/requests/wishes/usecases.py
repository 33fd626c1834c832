"""Micro-wishes (微心愿): staff post a beneficiary's small wish; it enters the loop as an order.

A wish is an order with source "wish": its orderer is the staff member who posted it (so staff can
rate the fulfilment on the beneficiary's behalf), its beneficiary travels in `source_details`, and
the dispatch stage puts it in the claim pool. The wish wall is a view of those orders.
"""

from __future__ import annotations

from typing import Any, Literal

from pymongo import DESCENDING

from services.common.domain import Missing
from services.requests.orders import domain, usecases
from services.requests.orders.domain import ServiceRequest, Status
from services.requests.orders.models import RequestDocument, from_document

Flag = Literal[
    "living_alone",
    "empty_nest",
    "bereaved_only_child",
    "elderly",
    "disabled",
    "left_behind_child",
    "low_income",
]
FLAG_TEXT = {
    "living_alone": ("独居", "living alone"),
    "empty_nest": ("空巢", "empty nest"),
    "bereaved_only_child": ("失独", "bereaved of an only child"),
    "elderly": ("高龄", "elderly"),
    "disabled": ("残疾", "disabled"),
    "left_behind_child": ("留守儿童", "left-behind child"),
    "low_income": ("低保", "low income"),
}
WishState = Literal["open", "claimed", "fulfilled", "withdrawn"]
# Where on the wall a wish stands, from its order's status.
WALL = {
    "open": (Status.SUBMITTED, Status.IN_REVIEW, Status.DISPATCHED, Status.ESCALATED),
    "claimed": (Status.ACCEPTED, Status.IN_SERVICE),
    "fulfilled": (Status.COMPLETED, Status.RATED, Status.CLOSED),
    "withdrawn": (Status.CANCELLED, Status.REJECTED),
}
STATE_TEXT = {
    "open": ("待认领", "Waiting for a volunteer"),
    "claimed": ("已认领", "Claimed"),
    "fulfilled": ("已圆梦", "Fulfilled"),
    "withdrawn": ("已撤回", "Withdrawn"),
}


class UnknownWish(Missing):
    """No wish with that id."""


def wall_state(status: Status) -> str:
    """open, claimed, fulfilled or withdrawn."""
    return next(state for state, statuses in WALL.items() if status in statuses)


def post_wish(
    *,
    staff_id: str,
    beneficiary: dict[str, Any],
    title: str,
    description: str,
    category: str,
    urgency: str,
    idempotency_key: str | None,
    causation_id: str,
) -> usecases.Submitted:
    """Post a wish: one order, written once, announced by its own `request.submitted`."""
    submission = domain.Submission(
        resident_id=staff_id,
        category=category,
        title=title,
        description=description,
        township=beneficiary["township"],
        village=beneficiary["village"],
        address=beneficiary.get("address"),
        urgency=urgency,
        contact_phone=beneficiary.get("phone"),
        source="wish",
        station=beneficiary["village"],
        source_details={"beneficiary": beneficiary},
    )
    return usecases.submit_request(submission, idempotency_key, causation_id)


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
    states = [state] if state else ["open", "claimed", "fulfilled"]
    query: dict[str, Any] = {
        "source": "wish",
        "status": {"$in": [status.value for name in states for status in WALL[name]]},
    }
    if township:
        query["township"] = township
    if before:
        query["_id"] = {"$lt": before}
    cursor = (
        RequestDocument._get_collection().find(query, {"outbox": 0}).sort([("_id", DESCENDING)]).limit(limit)
    )
    return [from_document(document) for document in cursor]
