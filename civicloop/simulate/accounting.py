"""Every order accounted for: the simulator's ground truth against the platform's state and report."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Any

from civicloop.simulate.gateway import Gateway
from civicloop.simulate.people import expected_visits
from civicloop.simulate.truth import Order, Truth
from civicloop.simulate.world import ADMIN, expiry_grace

OPEN_STATUSES = frozenset(
    {"submitted", "in_review", "dispatched", "accepted", "in_service", "completed", "rated"}
)
# How long past a deadline the platform may take before an order counts as stuck (simulated seconds).
STUCK_MARGIN = 6 * 3600


@dataclass
class Accounting:
    """Where every order ended, and what went wrong."""

    outcomes: Counter = field(default_factory=Counter)
    lost: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    never_submitted: list[str] = field(default_factory=list)
    visits_expected: int = 0
    visits_seen: int = 0
    details: dict[str, str] = field(default_factory=dict)
    # Simulated seconds the platform took at two steps that are its own: a submitted request to its
    # first offer, and an offer's deadline (plus grace) to the next offer after it lapsed.
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"first offer": [], "re-offer": []})

    @property
    def headline(self) -> str:
        return f"lost {len(self.lost)}, doubled {len(self.doubled)}, stuck {len(self.stuck)}"


def _time(value: str | None) -> float | None:
    return datetime.fromisoformat(value).timestamp() if value else None


def classify(order: Order, request: dict[str, Any] | None, job: dict[str, Any] | None, now: float) -> str:
    """One order's place in the accounting: closed, cancelled, rejected, open: …, lost, stuck: …"""
    if request is None:
        return "lost"
    status = request["status"]
    completed_attempts = [a for a in (job or {}).get("attempts", []) if a["status"] == "completed"]
    if order.completions > 1 or len(completed_attempts) > 1:
        return "doubled"
    if status in ("closed", "cancelled", "rejected"):
        if order.outcome == "cancelled" and status != "cancelled":
            return f"stuck: cancelled by its resident, {status} on the platform"
        return status
    if order.score is not None:
        return f"stuck: rated, still {status}"
    if order.completions and status not in ("completed", "rated"):
        return f"stuck: checked out, still {status}"
    if order.outcome == "cancelled":
        return f"stuck: cancelled by its resident, still {status}"
    if job is None:
        submitted = now if order.submitted_at is None else order.submitted_at
        return (
            "stuck: dispatch never heard of it" if now - submitted > STUCK_MARGIN else "open: just submitted"
        )
    if job["status"] == "offered":
        deadline = _time(job.get("next_deadline"))
        if deadline is not None and now - deadline > STUCK_MARGIN:
            return "stuck: an offer past its deadline was never taken back"
        return "open: offered"
    if job["status"] == "waiting":
        return (
            "stuck: waiting for a batch decision"
            if now - (order.submitted_at or now) > STUCK_MARGIN
            else "open"
        )
    if status == "completed":
        return "open: awaiting the resident's rating"
    return f"open: {job['status']}"


def reconcile(gateway: Gateway, truth: Truth, now: float, until: float) -> Accounting:
    """Ask the platform about every order the simulator started, and sort them."""
    accounting = Accounting()
    grace = expiry_grace(truth.speed)
    for order in truth.orders.values():
        if order.kind == "patrol" and order.tier != "reported_to_community":
            if order.report_id is None:
                accounting.never_submitted.append(order.key)
                continue
            report = gateway.get_json(f"/api/v1/patrols/{order.report_id}", ADMIN)
            outcome = "lost" if report is None else f"patrol report {report['status']}"
        elif order.request_id is None:
            if order.planned_at <= now:
                accounting.never_submitted.append(order.key)
            continue
        else:
            request = gateway.get_json(f"/api/v1/requests/{order.request_id}", ADMIN)
            job = gateway.get_json(f"/api/v1/dispatch/{order.request_id}", ADMIN)
            outcome = classify(order, request, job, now)
            if job is not None:
                _measure(accounting, job, grace)
        accounting.outcomes[outcome.split(":")[0]] += 1
        if outcome != outcome.split(":")[0]:
            accounting.details[order.key] = outcome
        if outcome == "lost":
            accounting.lost.append(order.key)
        elif outcome == "doubled":
            accounting.doubled.append(order.key)
        elif outcome.startswith("stuck"):
            accounting.stuck.append(order.key)
    # Visits due before the pairings ended (the period's end) must have become orders.
    accounting.visits_expected = expected_visits(truth, until)
    accounting.visits_seen = len(truth.visits_seen)
    return accounting


def _measure(accounting: Accounting, job: dict[str, Any], grace: float) -> None:
    attempts = job["attempts"]
    automatic = [a for a in attempts if a["level"] in ("pairing", "station", "township", "county")]
    if automatic and job.get("review") is None:
        first = _time(automatic[0]["offered_at"])
        submitted = _time(job["submitted_at"])
        if first is not None and submitted is not None:
            accounting.latencies["first offer"].append(first - submitted)
    for earlier, later in pairwise(attempts):
        if earlier["status"] == "expired" and earlier["deadline"] and later["level"] in automatic_levels():
            lag = (_time(later["offered_at"]) or 0) - (_time(earlier["deadline"]) or 0) - grace
            accounting.latencies["re-offer"].append(max(0.0, lag))


def automatic_levels() -> tuple[str, ...]:
    return ("pairing", "station", "township", "county")


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p90 and the largest of a list (zeros when empty)."""
    if not values:
        return {"p50": 0.0, "p90": 0.0, "max": 0.0, "n": 0}
    ordered = sorted(values)

    def pick(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    return {"p50": pick(0.5), "p90": pick(0.9), "max": ordered[-1], "n": len(ordered)}


# --- the ground truth's figures, as the rollout report counts them ------------------------------------
FIGURES = (
    "submitted",
    "activities",
    "volunteer_participations",
    "people_served",
    "volunteer_hours",
    "lectures",
    "lecture_audience",
    "ratings",
    "ratings_4_or_5",
    "resolved_on_site",
    "reported_to_community",
    "joint_consultation",
)


def truth_figures(truth: Truth, township: str | None = None) -> dict[str, float]:
    """What the report must say, from what the simulator did (per township, or in total)."""
    figures = dict.fromkeys(FIGURES, 0.0)
    for order in truth.orders.values():
        if township and order.township != township:
            continue
        if order.kind == "patrol" and order.report_id:
            figures[order.tier or ""] = figures.get(order.tier or "", 0) + 1
        if order.request_id and order.submitted_at is not None:
            figures["submitted"] += 1
        if order.completions:
            figures["activities"] += 1
            figures["volunteer_participations"] += order.participants
            figures["people_served"] += order.people_served
            figures["volunteer_hours"] += order.hours
            if order.category == "policy_lecture":
                figures["lectures"] += 1
                figures["lecture_audience"] += order.people_served
        if order.score is not None:
            figures["ratings"] += 1
            figures["ratings_4_or_5"] += order.score >= 4
    return figures


def report_figures(block: dict[str, Any]) -> dict[str, float]:
    """The same figures from one block (a township or the total) of GET /api/v1/stats/rollout."""
    return {
        "submitted": block["counts"]["submitted"],
        "activities": block["activities"],
        "volunteer_participations": block["volunteer_participations"],
        "people_served": block["people_served"],
        "volunteer_hours": block["volunteer_hours"],
        "lectures": block["lectures"],
        "lecture_audience": block["lecture_audience"],
        "ratings": block["counts"]["ratings"],
        "ratings_4_or_5": block["counts"]["ratings_4_or_5"],
        "resolved_on_site": block["patrol_reports"].get("resolved_on_site", 0),
        "reported_to_community": block["patrol_reports"].get("reported_to_community", 0),
        "joint_consultation": block["patrol_reports"].get("joint_consultation", 0),
    }


def differences(truth: Truth, rollout: dict[str, Any]) -> list[tuple[str, str, float, float]]:
    """(where, figure, truth, report) for every figure that differs, per township and in total."""
    found = []
    blocks = [(row["township"], row) for row in rollout["townships"]] + [("total", rollout["total"])]
    for where, block in blocks:
        expected = truth_figures(truth, None if where == "total" else where)
        reported = report_figures(block)
        for name in FIGURES:
            if abs(expected[name] - reported[name]) > (0.011 if name == "volunteer_hours" else 0):
                found.append((where, name, expected[name], reported[name]))
    return found
