"""How the rollout figures are stored: one fact document per request, and its mapping to the domain."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import mongoengine

from services.common.ids import as_utc
from services.common.rollups import Contribution
from services.common.store import DocumentStore, RolledUpDocument
from services.common.sweeps import bucket
from services.requests.figures import OVERDUE_OFFERS, ROLLOUT
from services.requests.stats import domain
from services.requests.stats.domain import Answer, Completion, Fact, Offer, Rating


class RolloutFactDocument(RolledUpDocument):
    """What the rollout figures know of one request (its id is the request's)."""

    meta = {"collection": "rollout_facts", "indexes": ["rollups_pending", "watch_minute"]}

    id = mongoengine.StringField(primary_key=True)
    township = mongoengine.StringField(required=True)
    category = mongoengine.StringField(required=True)
    offers = mongoengine.ListField(mongoengine.DictField())
    answers = mongoengine.ListField(mongoengine.DictField())
    completion = mongoengine.DictField()
    rating = mongoengine.DictField()
    # The minute the next unanswered offer falls overdue: the overdue sweep visits minutes by equality.
    watch_minute = mongoengine.StringField()


def fact_to_document(fact: Fact, now: datetime) -> dict[str, Any]:
    """The stored form of a fact, with the minute it must be looked at again (None: never)."""
    watch = domain.next_deadline(fact, now)
    return {
        "_id": fact.request_id,
        "township": fact.township,
        "category": fact.category,
        "offers": [vars(offer) for offer in fact.offers.values()],
        "answers": [vars(answer) for answer in fact.answers.values()],
        "completion": vars(fact.completion) if fact.completion else None,
        "rating": vars(fact.rating) if fact.rating else None,
        "watch_minute": bucket(watch) if watch else None,
    }


def fact_rollups(document: Mapping[str, Any], now: datetime) -> Contribution:
    """What a fact counts for: its figures in the county report, its overdue offers in the gauge."""
    fact = fact_from_document(document)
    counted: Contribution = {}
    for moment, figure, amount in domain.fact_figures(fact):
        ROLLOUT.add(counted, fact.township, moment, figure, amount)
    for deadline in domain.overdue_deadlines(fact, now):
        OVERDUE_OFFERS.add(counted, fact.township, deadline, "overdue")
    return counted


facts_store = DocumentStore(RolloutFactDocument, rollups=fact_rollups)


def fact_from_document(document: Mapping[str, Any]) -> Fact:
    """A fact from its stored form (the server hands times back without a zone)."""
    completion = document.get("completion")
    rating = document.get("rating")
    return Fact(
        request_id=document["_id"],
        township=document["township"],
        category=document.get("category") or "",
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
