"""The cascade (层层派单): pairing volunteers, then the station, then township teams, then county teams.

Pure. Each level gets the policy's number of attempts; the cascade never steps back to an
earlier level; within a level the eligible candidate with the highest score wins (ties by id).
The station level offers to volunteers of the request's station, and to the township's other
volunteers when the station has nobody eligible. When no level has anyone left the request goes
to the claim pool and a dispatcher's queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.dispatch.engine.eligibility import Candidate, why_not
from services.dispatch.engine.index import CandidateSource
from services.dispatch.engine.scoring import score
from services.dispatch.policy.domain import Policy

# Order of the automatic levels; "manual" (a dispatcher) and "pool" (a claim) stand outside it.
LEVELS = ("pairing", "station", "township", "county")
CONSIDERED_KEPT = 10


@dataclass(frozen=True)
class Need:
    """What a request asks of a candidate, as the cascade reads it."""

    category: str
    skills: list[str]
    township: str
    station_id: str | None
    point: tuple[float, float] | None
    window: tuple[datetime, datetime | None]
    preassigned: list[str] = field(default_factory=list)


@dataclass
class Choice:
    """The winner at a level, and the record of everyone weighed."""

    candidate: Candidate | None
    level: str | None
    considered: list[dict[str, Any]]
    excluded: dict[str, int]


def level_limit(policy: Policy, level: str) -> int:
    """How many offers a level gets."""
    return {
        "pairing": 10**6,
        "station": policy.station_attempts,
        "township": policy.township_attempts,
        "county": policy.county_attempts,
    }[level]


def candidates_at(source: CandidateSource, need: Need, level: str) -> list[Candidate]:
    """Who might serve at a level (a superset; eligibility filters after)."""
    if level == "pairing":
        found = (source.get(i) for i in need.preassigned)
        return [c for c in found if c is not None and not c.is_team]
    if level == "station":
        if need.station_id:
            # The station's own volunteers first (the source may return more: keep exactly the station's).
            at_station = source.volunteers_at(need.station_id, need.skills)
            own = [c for c in at_station if c.station_id == need.station_id]
            if own:
                return own
        return list(source.volunteers(need.township, need.skills))
    return list(source.teams(need.township, need.category, level))


def rank_level(
    source: CandidateSource, need: Need, level: str, tried: set[str], policy: Policy, now: datetime
) -> tuple[list[tuple[Candidate, dict[str, Any]]], dict[str, int]]:
    """Eligible candidates at a level, best first, with their scores; and why others were out."""
    ranked, excluded = _rank(candidates_at(source, need, level), need, level, tried, policy, now)
    if not ranked and level == "station" and need.station_id:
        # Nobody eligible at the station itself: the township's volunteers.
        wider, more = _rank(
            list(source.volunteers(need.township, need.skills)), need, level, tried, policy, now
        )
        for reason, count in more.items():
            excluded[reason] = excluded.get(reason, 0) + count
        ranked = wider
    return ranked, excluded


def _rank(
    candidates: list[Candidate], need: Need, level: str, tried: set[str], policy: Policy, now: datetime
) -> tuple[list[tuple[Candidate, dict[str, Any]]], dict[str, int]]:
    scored: list[tuple[Candidate, dict[str, Any]]] = []
    excluded: dict[str, int] = {}
    # A pairing volunteer is honoured wherever they live: the pairing already chose them.
    place_level = "pairing" if level == "pairing" else level
    for candidate in candidates:
        reason = why_not(
            candidate,
            category=need.category,
            skills=need.skills,
            township=need.township if place_level != "pairing" else candidate.township,
            level=place_level,
            window=need.window,
            tried=tried,
        )
        if reason is not None:
            excluded[reason] = excluded.get(reason, 0) + 1
            continue
        breakdown = score(
            candidate,
            township=need.township,
            station_id=need.station_id,
            point=need.point,
            policy=policy,
            now=now,
        )
        scored.append((candidate, breakdown))
    scored.sort(key=lambda pair: (-pair[1]["total"], pair[0].id))
    return scored, excluded


def record(candidate: Candidate, breakdown: dict[str, Any]) -> dict[str, Any]:
    """How a weighed candidate is stored with the decision."""
    return {
        "candidate_id": candidate.id,
        "kind": candidate.kind,
        "volunteer_id": None if candidate.is_team else candidate.id,
        "team_id": candidate.id if candidate.is_team else None,
        "load": candidate.load,
        "capacity": candidate.capacity,
        **breakdown,
    }


def choose(
    source: CandidateSource,
    need: Need,
    *,
    attempts_by_level: dict[str, int],
    last_level: str | None,
    tried: set[str],
    policy: Policy,
    now: datetime,
) -> Choice:
    """The next offer: the best eligible candidate at the first level that still has attempts."""
    start = LEVELS.index(last_level) if last_level in LEVELS else 0
    excluded_all: dict[str, int] = {}
    for level in LEVELS[start:]:
        if level == "pairing" and not need.preassigned:
            continue
        if attempts_by_level.get(level, 0) >= level_limit(policy, level):
            continue
        ranked, excluded = rank_level(source, need, level, tried, policy, now)
        for reason, count in excluded.items():
            excluded_all[f"{level}: {reason}"] = excluded_all.get(f"{level}: {reason}", 0) + count
        if ranked:
            considered = [record(c, b) for c, b in ranked[:CONSIDERED_KEPT]]
            return Choice(ranked[0][0], level, considered, excluded_all)
    return Choice(None, None, [], excluded_all)
