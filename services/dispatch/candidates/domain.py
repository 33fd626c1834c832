"""Dispatch's read-model of volunteers and teams, as pure functions of their events.

Pure. Every change is a set union, a "newest profile version wins" or a maximum, so applying the
same events again, or in another order, gives the same view: a replay rebuilds it exactly.
A task is open while it has been opened (offered or claimed) and not closed (declined, expired,
completed, withdrawn); closed ids are kept so a late offer event cannot reopen one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.dispatch.engine.eligibility import Candidate

PROFILE_SETS = ("opened_task_ids", "offered_task_ids", "closed_task_ids", "accepted_task_ids")


def empty(view_id: str, kind: str) -> dict[str, Any]:
    """A view that has seen no event yet (task events may come before the profile)."""
    return {
        "_id": view_id,
        "kind": kind,
        "profile_version": 0,
        **{name: [] for name in PROFILE_SETS},
        "ratings": {},
        "last_offered_at": None,
    }


def _union(view: dict[str, Any], name: str, value: str) -> None:
    if value not in view[name]:
        view[name] = sorted({*view[name], value})


def apply_profile(view: dict[str, Any], profile: dict[str, Any]) -> bool:
    """Take a volunteer's or team's newest profile; an older or repeated one changes nothing."""
    if profile["profile_version"] <= view.get("profile_version", 0):
        return False
    view.update(profile)
    return True


def task_opened(view: dict[str, Any], task_id: str, at: datetime | None, *, offered: bool) -> None:
    """An offer (or a claim) now counts against the candidate's load."""
    _union(view, "opened_task_ids", task_id)
    if offered:
        _union(view, "offered_task_ids", task_id)
    if at is not None:
        last = view.get("last_offered_at")
        if last is None or at > last:
            view["last_offered_at"] = at


def task_accepted(view: dict[str, Any], task_id: str, at: datetime | None) -> None:
    """The candidate said yes (acceptance history); a claim from the pool also opens the task."""
    task_opened(view, task_id, at, offered=False)
    _union(view, "accepted_task_ids", task_id)


def task_closed(view: dict[str, Any], task_id: str) -> None:
    """The task no longer counts against the load."""
    _union(view, "closed_task_ids", task_id)


def rated(view: dict[str, Any], rating_id: str, score: int) -> None:
    """A resident's rating of work the candidate did."""
    view["ratings"] = {**view.get("ratings", {}), rating_id: score}


def open_task_ids(view: dict[str, Any]) -> list[str]:
    """Tasks that count against the load now."""
    closed = set(view.get("closed_task_ids", []))
    return [t for t in view.get("opened_task_ids", []) if t not in closed]


def is_active(view: dict[str, Any] | None) -> bool:
    """Whether a volunteer's view says they serve now (a view with no profile yet does not)."""
    return view is not None and bool(view.get("active", False)) and view.get("profile_version", 0) > 0


def to_candidate(
    view: dict[str, Any], *, team_capacity: int = 5, leader: dict[str, Any] | None = None
) -> Candidate:
    """The candidate the engine weighs; a team's with its leader's volunteer view, when there is one."""
    is_team = view.get("kind") == "team"
    ratings = list(view.get("ratings", {}).values())
    offers = len(view.get("offered_task_ids", []))
    accepted = len(set(view.get("accepted_task_ids", [])) & set(view.get("offered_task_ids", [])))
    return Candidate(
        id=view["_id"],
        kind="team" if is_team else "volunteer",
        township=view.get("township") or "",
        skills=view.get("skills") or [],
        active=is_active(view),
        capacity=team_capacity if is_team else int(view.get("capacity") or 0),
        open_task_ids=open_task_ids(view),
        station_id=view.get("station_id"),
        last_offered_at=view.get("last_offered_at"),
        team_kind=view.get("team_kind"),
        townships=view.get("townships") or [],
        categories=view.get("categories") or [],
        latitude=view.get("latitude"),
        longitude=view.get("longitude"),
        offers=offers,
        accepted=accepted,
        rating_sum=float(sum(ratings)),
        rating_count=len(ratings),
        weekly=view.get("weekly_availability") or [],
        exceptions=view.get("availability_exceptions") or [],
        leader_id=view.get("leader_id") if is_team else None,
        leader_active=is_team
        and leader is not None
        and leader["_id"] == view.get("leader_id")
        and is_active(leader),
    )
