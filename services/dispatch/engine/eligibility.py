"""Who may be offered a request at all: skills, activity, place, availability, room, history.

Pure. A candidate is a volunteer or a team, as dispatch's read-model knows them. `why_not`
returns the first reason a candidate is out (or None), so a decision can explain itself.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

# Weekly schedules and exceptions are in the county's local time (China Standard Time).
LOCAL = timezone(timedelta(hours=8))
COUNTY_TEAM_KINDS = frozenset({"county_corps", "standing"})


@dataclass
class Candidate:
    """Dispatch's view of a volunteer or a team, built only from volunteer, team and task events."""

    id: str
    township: str
    skills: list[str]
    active: bool = True
    capacity: int = 2
    open_task_ids: list[str] = field(default_factory=list)
    # The station the volunteer belongs to, by its id (the organisation tree's identity, ADR 0091).
    station_id: str | None = None
    last_offered_at: datetime | None = None
    kind: str = "volunteer"  # or "team"
    team_kind: str | None = None
    townships: list[str] = field(default_factory=list)  # teams: where they serve
    categories: list[str] = field(default_factory=list)  # teams: what they do
    latitude: float | None = None
    longitude: float | None = None
    offers: int = 0
    accepted: int = 0
    rating_sum: float = 0.0
    rating_count: int = 0
    weekly: list[dict[str, Any]] = field(default_factory=list)
    exceptions: list[dict[str, Any]] = field(default_factory=list)
    # Teams: a team's offer lands in its leader's inbox, so only a leader who is active can answer it.
    leader_id: str | None = None
    leader_active: bool = False

    @property
    def load(self) -> int:
        """Tasks offered to or held by the candidate right now."""
        return len(self.open_task_ids)

    @property
    def is_team(self) -> bool:
        """Whether the offer would go to a team's leader."""
        return self.kind == "team"

    @property
    def answerable(self) -> bool:
        """Whether someone can answer an offer: the volunteer, or an active leader of the team."""
        return not self.is_team or (self.leader_id is not None and self.leader_active)

    @property
    def county_wide(self) -> bool:
        """A county team: the corps, a standing team, or a team with no townships named."""
        return self.is_team and (self.team_kind in COUNTY_TEAM_KINDS or not self.townships)


@functools.lru_cache(maxsize=4096)
def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _slots_on(candidate: Candidate, day: date) -> list[tuple[time, time]] | None:
    """The local time slots a volunteer is free on a day; None means "any time" (no schedule)."""
    exceptions = [e for e in candidate.exceptions if e.get("date") == day.isoformat()]
    if any(not e.get("available", False) and not e.get("start") for e in exceptions):
        return []  # away the whole day
    if candidate.weekly:
        slots = [
            (_clock(s["start"]), _clock(s["end"])) for s in candidate.weekly if s["day"] == day.weekday()
        ]
    else:
        slots = None
    extra = [
        (_clock(e["start"]), _clock(e["end"])) for e in exceptions if e.get("available") and e.get("start")
    ]
    if extra:
        slots = (slots or []) + extra
    blocked = [
        (_clock(e["start"]), _clock(e["end"]))
        for e in exceptions
        if not e.get("available") and e.get("start")
    ]
    if blocked:
        if slots is None:
            slots = [(time(0, 0), time(23, 59))]
        slots = _subtract(slots, blocked)
    return slots


def _subtract(slots: list[tuple[time, time]], blocked: list[tuple[time, time]]) -> list[tuple[time, time]]:
    result = []
    for start, end in slots:
        pieces = [(start, end)]
        for b_start, b_end in blocked:
            pieces = [
                piece
                for s, e in pieces
                for piece in ((s, min(e, b_start)), (max(s, b_end), e))
                if piece[0] < piece[1]
            ]
        result.extend(pieces)
    return result


def is_available(candidate: Candidate, start: datetime, end: datetime | None = None) -> bool:
    """Free for the whole window (same local day), by weekly schedule and exceptions."""
    if candidate.is_team or (not candidate.weekly and not candidate.exceptions):
        return True
    local_start = start.astimezone(LOCAL)
    local_end = (end or start).astimezone(LOCAL)
    slots = _slots_on(candidate, local_start.date())
    if slots is None:
        return True
    if local_end.date() != local_start.date():
        local_end = local_start.replace(hour=23, minute=59)
    return any(s <= local_start.time() and local_end.time() <= e for s, e in slots)


def covers_place(candidate: Candidate, township: str, level: str) -> bool:
    """Volunteers serve their township; township teams theirs; county teams the county."""
    if not candidate.is_team:
        return candidate.township == township
    if level == "county":
        return candidate.county_wide
    return township in candidate.townships


def covers_skills(candidate: Candidate, category: str, skills: list[str]) -> bool:
    """A volunteer's skills include every skill the request needs; a team does the category."""
    if candidate.is_team:
        return category in candidate.categories
    return set(skills) <= set(candidate.skills)


def why_not(
    candidate: Candidate,
    *,
    category: str,
    skills: list[str],
    township: str,
    level: str,
    window: tuple[datetime, datetime | None],
    tried: set[str],
) -> str | None:
    """The first reason the candidate cannot be offered this request, or None when they can."""
    if candidate.id in tried:
        return "already offered this request"
    if not candidate.active:
        return "inactive"
    if not candidate.answerable:
        return "no active leader to answer the offer"
    if not covers_skills(candidate, category, skills):
        return "skills do not cover the request"
    if not covers_place(candidate, township, level):
        return "does not serve the place"
    if candidate.load >= candidate.capacity:
        return "no room for another task"
    if not is_available(candidate, *window):
        return "not available in the requested window"
    return None
