"""Dispatch's read-model of volunteers and teams, as pure functions of their events.

Pure. A view keeps what the engine weighs and nothing that grows with history: the tasks still
open, plus the tasks and ratings of the last `KEEP` (a week, as long as the inbox remembers events
and so as long as a repeated event could arrive), and lifetime counters (offers, offers accepted,
the sum and number of ratings). Within that window each change is "first time only" per task or
rating id, and a profile is "newest version wins", so applying the same events again, or in another
order, gives the same view: a replay rebuilds it exactly. A task is open while it has been opened
(offered or claimed) and not closed (declined, expired, completed, withdrawn); a closed task stays
known for `KEEP`, so a late offer event cannot reopen it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from services.dispatch.engine.eligibility import Candidate

KEEP = timedelta(days=7)
COUNTERS = ("offers", "accepted", "rating_sum", "rating_count")
# The unbounded id sets views held before (ADR 0014); `upgrade` turns them into the bounded form.
OLD_SETS = ("opened_task_ids", "offered_task_ids", "closed_task_ids", "accepted_task_ids")


def empty(view_id: str, kind: str) -> dict[str, Any]:
    """A view that has seen no event yet (task events may come before the profile)."""
    return {
        "_id": view_id,
        "kind": kind,
        "profile_version": 0,
        "tasks": {},
        "rated": {},
        **dict.fromkeys(COUNTERS, 0),
        "last_offered_at": None,
    }


def upgrade(view: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A view stored with id sets (before issue 11) in the bounded form; others unchanged."""
    if not any(name in view for name in OLD_SETS) and "ratings" not in view:
        return view
    opened, offered = set(view.pop("opened_task_ids", [])), set(view.pop("offered_task_ids", []))
    closed, accepted = set(view.pop("closed_task_ids", [])), set(view.pop("accepted_task_ids", []))
    ratings = view.pop("ratings", {}) or {}
    view.setdefault("tasks", {})
    for task_id in opened - closed:  # only open tasks matter from here on
        view["tasks"][task_id] = {"opened": True, "offered": task_id in offered, "seen": now}
        if task_id in accepted:
            view["tasks"][task_id]["accepted"] = True
    view["offers"] = view.get("offers", 0) + len(offered)
    view["accepted"] = view.get("accepted", 0) + len(offered & accepted)
    view["rating_sum"] = view.get("rating_sum", 0) + sum(ratings.values())
    view["rating_count"] = view.get("rating_count", 0) + len(ratings)
    view.setdefault("rated", {})
    return view


def _task(view: dict[str, Any], task_id: str, at: datetime) -> dict[str, Any]:
    """The view's entry of a task; `seen` is the latest time of an event about it (a replay keeps it)."""
    entry = view.setdefault("tasks", {}).setdefault(task_id, {})
    seen = entry.get("seen")
    entry["seen"] = at if seen is None or at > seen else seen
    return entry


def apply_profile(view: dict[str, Any], profile: dict[str, Any]) -> bool:
    """Take a volunteer's or team's newest profile; an older or repeated one changes nothing."""
    if profile["profile_version"] <= view.get("profile_version", 0):
        return False
    view.update(profile)
    return True


def task_opened(
    view: dict[str, Any], task_id: str, at: datetime | None, *, offered: bool, now: datetime
) -> None:
    """An offer (or a claim) now counts against the candidate's load; an offer counts once."""
    if at is not None and at < now - KEEP:
        return  # older than anything a view remembers: a replay from long ago, not a task to open
    entry = _task(view, task_id, at or now)
    entry["opened"] = True
    if offered and not entry.get("offered"):
        entry["offered"] = True
        view["offers"] = view.get("offers", 0) + 1
        if entry.get("accepted"):
            view["accepted"] = view.get("accepted", 0) + 1
    if at is not None:
        last = view.get("last_offered_at")
        if last is None or at > last:
            view["last_offered_at"] = at


def task_accepted(view: dict[str, Any], task_id: str, at: datetime | None, *, now: datetime) -> None:
    """The candidate said yes (acceptance history); a claim from the pool also opens the task."""
    task_opened(view, task_id, at, offered=False, now=now)
    if at is not None and at < now - KEEP:
        return
    entry = _task(view, task_id, at or now)
    if not entry.get("accepted"):
        entry["accepted"] = True
        if entry.get("offered"):
            view["accepted"] = view.get("accepted", 0) + 1


def task_closed(view: dict[str, Any], task_id: str, *, at: datetime) -> None:
    """The task no longer counts against the load (`at`: when it closed)."""
    _task(view, task_id, at)["closed"] = True


def rated(view: dict[str, Any], rating_id: str, score: int, *, at: datetime) -> None:
    """A resident's rating of work the candidate did (once per rating; `at`: when it was given)."""
    known = view.setdefault("rated", {})
    if rating_id in known:
        return
    known[rating_id] = at
    view["rating_sum"] = view.get("rating_sum", 0) + score
    view["rating_count"] = view.get("rating_count", 0) + 1


def forget_before(view: dict[str, Any], cutoff: datetime) -> None:
    """Drop closed tasks and ratings last seen before `cutoff`: their counts stay in the counters."""
    tasks = view.get("tasks", {})
    for task_id in [t for t, e in tasks.items() if e.get("closed") and e.get("seen") and e["seen"] < cutoff]:
        del tasks[task_id]
    known = view.get("rated", {})
    for rating_id in [r for r, seen in known.items() if seen < cutoff]:
        del known[rating_id]


def open_task_ids(view: dict[str, Any]) -> list[str]:
    """Tasks that count against the load now."""
    return sorted(t for t, e in view.get("tasks", {}).items() if e.get("opened") and not e.get("closed"))


def is_active(view: dict[str, Any] | None) -> bool:
    """Whether a volunteer's view says they serve now (a view with no profile yet does not)."""
    return view is not None and bool(view.get("active", False)) and view.get("profile_version", 0) > 0


def to_candidate(
    view: dict[str, Any], *, team_capacity: int = 5, leader: dict[str, Any] | None = None
) -> Candidate:
    """The candidate the engine weighs; a team's with its leader's volunteer view, when there is one."""
    is_team = view.get("kind") == "team"
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
        offers=int(view.get("offers", 0)),
        accepted=int(view.get("accepted", 0)),
        rating_sum=float(view.get("rating_sum", 0)),
        rating_count=int(view.get("rating_count", 0)),
        weekly=view.get("weekly_availability") or [],
        exceptions=view.get("availability_exceptions") or [],
        leader_id=view.get("leader_id") if is_team else None,
        leader_active=is_team
        and leader is not None
        and leader["_id"] == view.get("leader_id")
        and is_active(leader),
    )
