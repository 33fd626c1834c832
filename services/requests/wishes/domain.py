"""Rules of micro-wishes (微心愿): the beneficiary's flags, where a wish stands on the wall (pure).

A wish is an order with source "wish": its orderer is the staff member who posted it (so staff can
rate the fulfilment on the beneficiary's behalf), its beneficiary travels in `source_details`, and
the dispatch stage puts it in the claim pool. The wish wall is a view of those orders.
"""

from __future__ import annotations

from typing import Any, Literal

from services.requests.orders.domain import Status, Submission

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
# The wall shows these unless asked for withdrawn wishes.
ON_THE_WALL = ("open", "claimed", "fulfilled")


def wall_state(status: Status) -> WishState:
    """open, claimed, fulfilled or withdrawn."""
    return next(state for state, statuses in WALL.items() if status in statuses)


def wish_order(
    *, staff_id: str, beneficiary: dict[str, Any], title: str, description: str, category: str, urgency: str
) -> Submission:
    """The order a wish becomes: posted by staff, for the beneficiary's village, to the claim pool."""
    return Submission(
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
        source_details={"beneficiary": beneficiary},
    )
