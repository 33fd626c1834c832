"""The county's rollout figures: facts kept per request, the report of a period, periodic gauges.

The requests stage consumes every lifecycle event, so it keeps one `rollout_facts` document per
request (offers with deadlines, answers, completion, rating). It is written inside the request's
lease by `lifecycle.usecases.record_lifecycle_event`, before the request itself, and rewriting it
with the same event changes nothing, so a retried event neither loses nor doubles a figure.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.common.events import Envelope
from services.common.ids import as_utc, utcnow
from services.requests.metrics import (
    OFFERS,
    OFFERS_IN_TIME,
    OFFERS_OVERDUE,
    PARTICIPATIONS,
    PEOPLE_SERVED,
    VOLUNTEER_HOURS,
)
from services.requests.orders.models import RequestDocument
from services.requests.patrols.models import PatrolReportDocument
from services.requests.stats import domain
from services.requests.stats.domain import Delta, FiledReport, Period, Report, SubmittedRequest
from services.requests.stats.models import RolloutFactDocument, fact_from_document, fact_to_document


# --- writing ----------------------------------------------------------------------------------------
def record_fact(envelope: Envelope, data: Any) -> Delta:
    """Fold a lifecycle event into its request's fact; the caller holds the request's lease."""
    if envelope.type not in domain.FACT_EVENTS:
        return Delta()
    collection = RolloutFactDocument._get_collection()
    stored = collection.find_one({"_id": data.request_id})
    fact = (
        fact_from_document(stored)
        if stored
        else domain.new_fact(data.request_id, data.township, data.category)
    )
    delta = domain.apply(fact, envelope.type, data)
    collection.replace_one({"_id": fact.request_id}, fact_to_document(fact), upsert=True)
    return delta


def observe_delta(township: str, category: str, delta: Delta) -> None:
    """Count what one event added to the rollout figures."""
    if delta.offers:
        OFFERS.labels(township, category).inc(delta.offers)
    if delta.offers_in_time:
        OFFERS_IN_TIME.labels(township, category).inc(delta.offers_in_time)
    if delta.completion is not None:
        VOLUNTEER_HOURS.labels(township, category).inc(delta.completion.hours)
        PARTICIPATIONS.labels(township, category).inc(delta.completion.participations)
        PEOPLE_SERVED.labels(township, category).inc(delta.completion.people_served)


# --- reading ----------------------------------------------------------------------------------------
def _between(field: str, period: Period) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    if period.start:
        bounds["$gte"] = period.start
    if period.end:
        bounds["$lt"] = period.end
    return {field: bounds} if bounds else {}


def rollout(start: datetime | None, end: datetime | None, township: str | None) -> Report:
    """The county report of [start, end): per township and in total."""
    period = Period(start, end)
    where = {"township": township} if township else {}
    submissions = [
        SubmittedRequest(d["township"], d["category"], as_utc(d["submitted_at"]))
        for d in RequestDocument._get_collection().find(
            {**where, **_between("submitted_at", period)}, {"township": 1, "category": 1, "submitted_at": 1}
        )
    ]
    facts = [fact_from_document(d) for d in RolloutFactDocument._get_collection().find(where)]
    patrols = [
        FiledReport(d["township"], d["tier"], as_utc(d["reported_at"]))
        for d in PatrolReportDocument._get_collection().find(
            {**where, **_between("reported_at", period)}, {"township": 1, "tier": 1, "reported_at": 1}
        )
        if d.get("township") and d.get("tier") and d.get("reported_at")
    ]
    return domain.aggregate(submissions, facts, patrols, period, township)


# --- gauges (a periodic job of the worker) ----------------------------------------------------------
def measure_rollout_gauges() -> None:
    """Set the overdue-offers gauge from the store (patrol reports are gauged by the patrol use cases)."""
    now = utcnow()
    overdue: dict[str, int] = {}
    for document in RolloutFactDocument._get_collection().find(
        {}, {"township": 1, "offers": 1, "answers": 1}
    ):
        document.setdefault("category", "")
        count = fact_from_document(document).overdue_offers(now)
        overdue[document["township"]] = overdue.get(document["township"], 0) + count
    for township, count in overdue.items():
        OFFERS_OVERDUE.labels(township).set(count)
