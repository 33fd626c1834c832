"""Batch mode: when several requests wait at once, assign them jointly to maximise the total score.

Pure. Each volunteer's free capacity becomes that many slots; every request also has its own
"leave for the cascade" column worth 0, so the optimum never forces a bad pairing and is never
below what first-come greedy finds (greedy's choice is one of the assignments it weighs).
scipy's linear_sum_assignment solves the rectangular problem exactly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from services.dispatch.engine import cascade
from services.dispatch.engine.eligibility import Candidate
from services.dispatch.engine.index import CandidateSource
from services.dispatch.policy.domain import Policy

FORBIDDEN = -1e9


def _options(
    needs: list[cascade.Need], tried: list[set[str]], source: CandidateSource, policy: Policy, now: datetime
) -> list[dict[str, tuple[Candidate, dict[str, Any]]]]:
    """Per request: the eligible individual volunteers and their scores (first level of the cascade)."""
    options = []
    for need, seen in zip(needs, tried, strict=True):
        ranked, _ = cascade.rank_level(source, need, "station", seen, policy, now)
        options.append({candidate.id: (candidate, breakdown) for candidate, breakdown in ranked})
    return options


def greedy(
    needs: list[cascade.Need], tried: list[set[str]], source: CandidateSource, policy: Policy, now: datetime
) -> list[str | None]:
    """First come, first served: each request in turn takes its best volunteer with room left."""
    options = _options(needs, tried, source, policy, now)
    used: dict[str, int] = {}
    chosen: list[str | None] = []
    for option in options:
        best = None
        for cid, (candidate, _breakdown) in sorted(
            option.items(), key=lambda kv: (-kv[1][1]["total"], kv[0])
        ):
            if candidate.load + used.get(cid, 0) < candidate.capacity:
                best = cid
                break
        if best is not None:
            used[best] = used.get(best, 0) + 1
        chosen.append(best)
    return chosen


def joint(
    needs: list[cascade.Need], tried: list[set[str]], source: CandidateSource, policy: Policy, now: datetime
) -> list[str | None]:
    """The assignment of requests to volunteer slots with the highest total score."""
    options = _options(needs, tried, source, policy, now)
    slots: list[str] = []
    capacity: dict[str, Candidate] = {}
    for option in options:
        for cid, (candidate, _) in option.items():
            capacity[cid] = candidate
    for cid in sorted(capacity):
        slots.extend([cid] * max(0, capacity[cid].capacity - capacity[cid].load))
    n = len(needs)
    if n == 0:
        return []
    matrix = np.full((n, len(slots) + n), FORBIDDEN)
    for row, option in enumerate(options):
        for column, cid in enumerate(slots):
            if cid in option:
                matrix[row, column] = option[cid][1]["total"]
        matrix[row, len(slots) + row] = 0.0  # stays unassigned: left to the cascade
    rows, columns = linear_sum_assignment(matrix, maximize=True)
    chosen: list[str | None] = [None] * n
    for row, column in zip(rows, columns, strict=True):
        if column < len(slots) and matrix[row, column] > FORBIDDEN:
            chosen[row] = slots[column]
    return chosen


def total_score(
    needs: list[cascade.Need],
    chosen: list[str | None],
    source: CandidateSource,
    tried: list[set[str]],
    policy: Policy,
    now: datetime,
) -> float:
    """The sum of the scores of an assignment."""
    options = _options(needs, tried, source, policy, now)
    return sum(options[i][cid][1]["total"] for i, cid in enumerate(chosen) if cid is not None)
