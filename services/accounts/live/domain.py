"""Rules of live notices (docs/adr/0084): what a notice says, and who is entitled to it.

Pure: no I/O. A notice only says that something changed (event type, request or task id, township);
the console then re-reads through the normal API, where ownership is enforced as always. Entitled:
the resident whose request it is, the volunteer offered the task (or the leader of the team offered
it), the staff of the township and county-wide staff.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.common.auth import Principal, Role

# The events whose notices a console may need.
LIVE_EVENTS: tuple[str, ...] = (
    "request.submitted",
    "request.reviewed",
    "request.pooled",
    "request.escalated",
    "request.cancelled",
    "request.closed",
    "task.offered",
    "task.accepted",
    "task.declined",
    "task.checked_in",
    "task.completed",
    "request.rated",
    "rating.flagged",
    "followup.resolved",
)


@dataclass
class Facts:
    """What decides who may hear of an event."""

    type: str
    request_id: str | None
    task_id: str | None
    township: str | None
    resident_id: str | None = None
    volunteer_ids: set[str] = field(default_factory=set)


def facts_of(event_type: str, data: dict[str, Any]) -> Facts:
    """The facts an event carries itself (its resident and team leader may need looking up)."""
    volunteers = {data["volunteer_id"]} if data.get("volunteer_id") else set()
    return Facts(
        type=event_type,
        request_id=data.get("request_id"),
        task_id=data.get("task_id"),
        township=data.get("township"),
        resident_id=data.get("resident_id"),
        volunteer_ids=volunteers,
    )


def entitled(principal: Principal, facts: Facts) -> bool:
    """Whether this person may hear that this changed."""
    if principal.is_staff:
        return principal.covers_township(facts.township)
    if principal.role in (Role.RESIDENT, Role.STEWARD):
        return facts.resident_id is not None and principal.sub == facts.resident_id
    if principal.role == Role.VOLUNTEER:
        # The claim pool is every volunteer's business; everything else only the volunteers it names.
        return facts.type == "request.pooled" or principal.sub in facts.volunteer_ids
    return False


def notice(event_id: str, facts: Facts, occurred_at: str) -> dict[str, Any]:
    """The notice itself: small, and nothing personal."""
    return {
        "id": event_id,
        "type": facts.type,
        "request_id": facts.request_id,
        "task_id": facts.task_id,
        "township": facts.township,
        "at": occurred_at,
    }
