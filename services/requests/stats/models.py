"""How the rollout figures are stored: one fact document per request, and its mapping to the domain."""

from __future__ import annotations

from typing import Any

import mongoengine

from services.common.ids import as_utc
from services.requests.stats.domain import Answer, Completion, Fact, Offer, Rating


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
