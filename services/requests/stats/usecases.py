"""The county's rollout figures: facts kept per request, the report of a period, periodic gauges.

The requests stage consumes every lifecycle event, so it keeps one `rollout_facts` document per
request (offers with deadlines, answers, completion, rating). It is written inside the request's
lease by `usecases.record_lifecycle_event`, before the request itself, and rewriting it with the
same event changes nothing, so a retried event neither loses nor doubles a figure.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import mongoengine

from services.common.events import Envelope
from services.common.ids import as_utc, utcnow
from services.requests.metrics import OFFERS_OVERDUE
from services.requests.orders.models import RequestDocument
from services.requests.stats import domain as stats_domain
from services.requests.stats.domain import (
    Answer,
    Completion,
    Delta,
    Fact,
    Offer,
    PatrolReport,
    Rating,
    Submission,
    Window,
)


class RolloutFactDocument(mongoengine.Document):
    """What the rollout figures know of one request (its id is the request's)."""

    meta = {"collection": "rollout_facts", "indexes": ["township"]}

    id = mongoengine.StringField(primary_key=True)
    township = mongoengine.StringField(required=True)
    category = mongoengine.StringField(required=True)
    offers = mongoengine.ListField(mongoengine.DictField())
    answers = mongoengine.ListField(mongoengine.DictField())
    completion = mongoengine.DictField()
    rating = mongoengine.DictField()


class PatrolReportView(mongoengine.Document):
    """Read-only view of the stewards' patrol reports (written by the patrol use cases)."""

    meta = {"collection": "patrol_reports", "strict": False, "auto_create_index": False}

    id = mongoengine.StringField(primary_key=True)
    township = mongoengine.StringField()
    tier = mongoengine.StringField()
    reported_at = mongoengine.DateTimeField()


# --- mapping ----------------------------------------------------------------------------------------
def fact_to_document(fact: Fact) -> dict[str, Any]:
    """The stored form of a fact."""
    return {
        "_id": fact.request_id,
        "township": fact.township,
        "category": fact.category,
        "offers": [vars(offer) for offer in fact.offers.values()],
        "answers": [vars(answer) for answer in fact.answers.values()],
        "completion": vars(fact.completion) if fact.completion else None,
        "rating": vars(fact.rating) if fact.rating else None,
    }


def fact_from_document(document: dict[str, Any]) -> Fact:
    """A fact from its stored form (the server hands times back without a zone)."""
    completion = document.get("completion")
    rating = document.get("rating")
    return Fact(
        request_id=document["_id"],
        township=document["township"],
        category=document["category"],
        offers={
            o["task_id"]: Offer(o["task_id"], as_utc(o["offered_at"]), as_utc(o["deadline"]))
            for o in document.get("offers") or []
        },
        answers={
            a["task_id"]: Answer(a["task_id"], a["kind"], as_utc(a["at"]))
            for a in document.get("answers") or []
        },
        completion=Completion(
            at=as_utc(completion["at"]),
            hours=float(completion["hours"]),
            participations=int(completion["participations"]),
            people_served=int(completion["people_served"]),
        )
        if completion
        else None,
        rating=Rating(score=int(rating["score"]), at=as_utc(rating["at"])) if rating else None,
    )


# --- writing ----------------------------------------------------------------------------------------
def record_fact(envelope: Envelope, data: Any) -> Delta:
    """Fold a lifecycle event into its request's fact; the caller holds the request's lease."""
    if envelope.type not in stats_domain.FACT_EVENTS:
        return Delta()
    collection = RolloutFactDocument._get_collection()
    stored = collection.find_one({"_id": data.request_id})
    fact = (
        fact_from_document(stored)
        if stored
        else stats_domain.new_fact(data.request_id, data.township, data.category)
    )
    delta = stats_domain.apply(fact, envelope.type, data)
    collection.replace_one({"_id": fact.request_id}, fact_to_document(fact), upsert=True)
    return delta


# --- reading ----------------------------------------------------------------------------------------
def _between(field: str, window: Window) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    if window.start:
        bounds["$gte"] = window.start
    if window.end:
        bounds["$lt"] = window.end
    return {field: bounds} if bounds else {}


def rollout(start: datetime | None, end: datetime | None, township: str | None) -> dict[str, Any]:
    """The county report of [start, end): per township and in total."""
    window = Window(start, end)
    where = {"township": township} if township else {}
    submissions = [
        Submission(d["township"], d["category"], as_utc(d["submitted_at"]))
        for d in RequestDocument._get_collection().find(
            {**where, **_between("submitted_at", window)}, {"township": 1, "category": 1, "submitted_at": 1}
        )
    ]
    facts = [fact_from_document(d) for d in RolloutFactDocument._get_collection().find(where)]
    patrols = [
        PatrolReport(d["township"], d["tier"], as_utc(d["reported_at"]))
        for d in PatrolReportView._get_collection().find(
            {**where, **_between("reported_at", window)}, {"township": 1, "tier": 1, "reported_at": 1}
        )
        if d.get("township") and d.get("tier") and d.get("reported_at")
    ]
    report = stats_domain.aggregate(submissions, facts, patrols, window, township)
    report["generated_at"] = utcnow()
    return report


# --- gauges (a periodic job of the worker) ----------------------------------------------------------
def measure_rollout_gauges() -> None:
    """Set the overdue-offers and patrol-report gauges from the store."""
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
    # Patrol reports on record are gauged by the patrol use cases (civicloop_patrol_reports_stored).
