"""How good a candidate is for a request: a weighted sum of parts, each in [0, 1], with its breakdown.

Pure. The parts: proximity (same station > same township > county), distance (when both sides
have coordinates), reputation (a Bayesian mean of ratings, so one rating does not dominate),
load (room left), fairness (time since the last task) and acceptance history.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from services.dispatch.engine.eligibility import Candidate
from services.dispatch.policy.domain import Policy

PROXIMITY = {"station": 1.0, "township": 0.6, "county": 0.2}


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(h))


def bayesian_reputation(policy: Policy, rating_sum: float, rating_count: int) -> float:
    """The mean rating pulled towards the prior: (prior·m + Σ) / (m + n)."""
    m = policy.reputation_prior_weight
    if m + rating_count == 0:
        return policy.reputation_prior_mean
    return (m * policy.reputation_prior_mean + rating_sum) / (m + rating_count)


def proximity_of(candidate: Candidate, township: str, station_id: str | None) -> str:
    """How near the candidate is: "station", "township" or "county" (stations compared by id)."""
    if candidate.is_team:
        if station_id and candidate.station_id == station_id:
            return "station"
        return "county" if candidate.county_wide and township not in candidate.townships else "township"
    if candidate.township != township:
        return "county"
    return "station" if station_id and candidate.station_id == station_id else "township"


def score(
    candidate: Candidate,
    *,
    township: str,
    station_id: str | None,
    point: tuple[float, float] | None,
    policy: Policy,
    now: datetime,
) -> dict[str, Any]:
    """The candidate's total and every part of it, as stored with each decision."""
    w = policy.weights
    near = proximity_of(candidate, township, station_id)
    parts: dict[str, float] = {"proximity": PROXIMITY[near]}
    distance_km = None
    if point is not None and candidate.latitude is not None and candidate.longitude is not None:
        distance_km = haversine_km(point, (candidate.latitude, candidate.longitude))
        parts["distance"] = policy.distance_scale_km / (policy.distance_scale_km + distance_km)
    else:
        parts["distance"] = 0.0
    reputation = bayesian_reputation(policy, candidate.rating_sum, candidate.rating_count)
    parts["reputation"] = (reputation - 1) / 4
    parts["load"] = 1 - candidate.load / candidate.capacity if candidate.capacity else 0.0
    if candidate.last_offered_at is None:
        parts["fairness"] = 1.0
    else:
        idle_hours = max(0.0, (now - candidate.last_offered_at).total_seconds() / 3600)
        parts["fairness"] = min(1.0, idle_hours / policy.fairness_horizon_hours)
    parts["acceptance"] = (candidate.accepted + 1) / (candidate.offers + 2)
    total = (
        w.proximity * parts["proximity"]
        + w.distance * parts["distance"]
        + w.reputation * parts["reputation"]
        + w.load * parts["load"]
        + w.fairness * parts["fairness"]
        + w.acceptance * parts["acceptance"]
    )
    return {
        "total": round(total, 6),
        "parts": {name: round(value, 4) for name, value in parts.items()},
        "proximity": near,
        "distance_km": None if distance_km is None else round(distance_km, 3),
        "reputation_mean": round(reputation, 3),
    }
