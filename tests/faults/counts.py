"""Counting after a fault: what was sent, what closed, what was done twice, what was lost.

Two independent witnesses: each service's own database (the state it ended in), and every event
published on the bus (captured by a durable queue bound to `#`). "Done twice" means a second distinct
effect, e.g. two `request.closed` events, two ratings or two hour credits for one request; the same
event delivered twice is at-least-once delivery working as designed, and is counted as a redelivery.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from pymongo.database import Database

# Effects a full loop has exactly once per request, as distinct events on the bus.
ONCE_PER_LOOP = (
    "request.submitted",
    "task.offered",
    "task.accepted",
    "task.checked_in",
    "task.completed",
    "request.rated",
    "request.closed",
)


@dataclass
class Counts:
    """The closing note's row for one fault test."""

    test: str
    sent: int
    closed: int
    duplicates: int
    lost: int
    redelivered: int = 0
    events: int = 0
    seconds: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        """`sent=… closed=… duplicates=… lost=…` and the rest."""
        extra = " ".join(f"{key}={value}" for key, value in self.notes.items())
        return (
            f"[{self.test}] sent={self.sent} closed={self.closed} duplicates={self.duplicates} "
            f"lost={self.lost} redelivered={self.redelivered} events={self.events} "
            f"seconds={self.seconds:.1f} {extra}"
        ).rstrip()

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def loop_state(databases: dict[str, Database], request_id: str) -> dict[str, Any]:
    """Everything the four services hold about one request, with ids and times left out."""
    request = databases["requests"].requests.find_one({"_id": request_id}) or {}
    job = databases["dispatch"].jobs.find_one({"_id": request_id}) or {}
    tasks = list(databases["volunteers"].tasks.find({"request_id": request_id}))
    hours = list(databases["volunteers"].hours.find({"request_id": request_id}))
    rating = databases["ratings"].ratings.find_one({"_id": request_id}) or {}
    return {
        "request": {
            "status": request.get("status"),
            "timeline": sorted(Counter(entry["kind"] for entry in request.get("timeline", [])).items()),
            "rating_score": request.get("rating_score"),
            "outbox": len(request.get("outbox", [])),
        },
        "job": {
            "status": job.get("status"),
            "attempts": [attempt.get("status") for attempt in job.get("attempts", [])],
            "outbox": len(job.get("outbox", [])),
        },
        "tasks": sorted((t.get("status"), t.get("hours"), t.get("rating_score")) for t in tasks),
        "hours": sorted(h.get("hours") for h in hours),
        "rating": {"status": rating.get("status"), "score": rating.get("score")},
    }


def doubled_in_databases(state: dict[str, Any]) -> list[str]:
    """What one request's stored state shows was done twice."""
    doubled = []
    timeline = dict(state["request"]["timeline"])
    for kind in ("request.closed", "request.rated", "task.completed", "task.accepted"):
        if timeline.get(kind, 0) > 1:
            doubled.append(f"timeline:{kind}x{timeline[kind]}")
    if len(state["hours"]) > 1:
        doubled.append(f"hours x{len(state['hours'])}")
    completed_tasks = [t for t in state["tasks"] if t[0] == "completed"]
    if len(completed_tasks) > 1:
        doubled.append(f"completed tasks x{len(completed_tasks)}")
    if state["job"]["attempts"].count("completed") > 1:
        doubled.append("completed attempts x2+")
    return doubled


def parse_captured(bodies: list[bytes]) -> list[dict[str, Any]]:
    """Envelopes from captured message bodies."""
    return [json.loads(body) for body in bodies]


def count(
    test: str,
    databases: dict[str, Database],
    request_ids: list[str],
    captured: list[dict[str, Any]],
    *,
    seconds: float = 0.0,
) -> tuple[Counts, dict[str, dict[str, Any]]]:
    """The counts for the requests a test sent, and each request's final state."""
    wanted = set(request_ids)
    distinct: dict[tuple[str, str], set[str]] = defaultdict(set)
    deliveries: Counter[str] = Counter()
    for envelope in captured:
        request_id = (envelope.get("data") or {}).get("request_id") or envelope.get("correlation_id")
        if request_id not in wanted:
            continue
        deliveries[envelope["id"]] += 1
        distinct[(request_id, envelope["type"])].add(envelope["id"])

    states = {request_id: loop_state(databases, request_id) for request_id in request_ids}
    duplicated: dict[str, list[str]] = {}
    closed_once = 0
    for request_id, state in states.items():
        doubled = doubled_in_databases(state)
        doubled += [
            f"bus:{kind}x{len(distinct[(request_id, kind)])}"
            for kind in ONCE_PER_LOOP
            if len(distinct[(request_id, kind)]) > 1
        ]
        if doubled:
            duplicated[request_id] = doubled
        closed_in_db = state["request"]["status"] == "closed"
        closed_on_bus = len(distinct[(request_id, "request.closed")]) >= 1
        if closed_in_db and closed_on_bus and not doubled:
            closed_once += 1
    lost = [
        request_id
        for request_id, state in states.items()
        if state["request"]["status"] != "closed" or not distinct[(request_id, "request.closed")]
    ]
    counts = Counts(
        test=test,
        sent=len(request_ids),
        closed=closed_once,
        duplicates=len(duplicated),
        lost=len(lost),
        redelivered=sum(times - 1 for times in deliveries.values()),
        events=sum(deliveries.values()),
        seconds=seconds,
    )
    if duplicated:
        counts.notes["duplicated_examples"] = json.dumps(
            dict(list(duplicated.items())[:3]), ensure_ascii=False
        )
    if lost:
        counts.notes["lost_examples"] = ",".join(lost[:5])
    return counts, states


def differences(states: dict[str, dict[str, Any]], baseline: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Requests whose final state is not the fault-free run's."""
    return {request_id: state for request_id, state in states.items() if state != baseline}
