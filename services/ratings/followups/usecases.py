"""Use cases of follow-ups (回访): open them from low scores and the sample, list them, record outcomes."""

from __future__ import annotations

from flask import current_app, has_app_context

from services.common import audit, contracts
from services.common.auth import Principal
from services.common.domain import Missing
from services.common.events import Envelope, envelopes
from services.common.ids import utcnow
from services.common.paging import newest_first
from services.common.settings import load_settings
from services.common.store import AlreadyExists, ConcurrencyConflict, from_state, holding, to_state
from services.ratings.followups import domain
from services.ratings.followups.domain import Followup, FollowupStatus
from services.ratings.followups.models import FollowupDocument, followups_store
from services.ratings.metrics import OPEN_FOLLOWUPS
from services.ratings.ratings.models import ratings_store

PRODUCER = "ratings"


class NoFollowup(Missing):
    """No follow-up for that request."""


def sample_percent() -> float:
    """The sampled share of completed requests, from the settings of this process."""
    if has_app_context():
        return current_app.config["CIVICLOOP_SETTINGS"].followup_sample_percent
    return load_settings("ratings").followup_sample_percent


def get_followup(followup_id: str) -> Followup:
    """A stored follow-up."""
    document = followups_store.get(followup_id)
    if document is None:
        raise NoFollowup("no follow-up with that id", field="followup_id")
    return from_state(Followup, document, status=FollowupStatus)


def covered_followup(principal: Principal, followup_id: str) -> Followup:
    """A follow-up the caller's township covers; others learn nothing of it (404)."""
    followup = get_followup(followup_id)
    if not principal.covers_township(followup.township):
        raise NoFollowup("no follow-up with that id", field="followup_id")
    return followup


@holding(followups_store, lambda request_id, *_args, **_kwargs: request_id)
def open_followup(
    request_id: str,
    reason: str,
    *,
    township: str,
    category: str,
    resident_id: str | None,
    volunteer_id: str | None,
    score: int | None = None,
    comment: str | None = None,
) -> None:
    """Open the request's follow-up, or add the reason to the one that is open (idempotent)."""
    document = followups_store.get(request_id)
    if document is None:
        followup = Followup(
            id=request_id,
            township=township,
            category=category,
            reasons=[reason],
            opened_at=utcnow(),
            resident_id=resident_id,
            volunteer_id=volunteer_id,
            score=score,
            comment=comment,
        )
        try:
            followups_store.insert(request_id, to_state(followup), [])
        except AlreadyExists:
            raise ConcurrencyConflict("the follow-up appeared meanwhile") from None
        return
    followup = from_state(Followup, document, status=FollowupStatus)
    if domain.add_reason(followup, reason, score=score, comment=comment):
        followups_store.save(followup.id, followup.version, to_state(followup), [])


def on_rating_flagged(envelope: Envelope, data: contracts.RatingFlagged) -> None:
    """A rating of 1 or 2: the township's staff call the resident back."""
    rated = ratings_store.get(data.request_id) or {}
    open_followup(
        data.request_id,
        domain.LOW_SCORE,
        township=data.township,
        category=data.category,
        resident_id=rated.get("resident_id"),
        volunteer_id=rated.get("volunteer_id"),
        score=data.score,
        comment=rated.get("comment"),
    )


def on_task_completed(envelope: Envelope, data: contracts.TaskCompleted) -> None:
    """A completed request in the sample gets a follow-up whatever its score."""
    if domain.sampled(data.request_id, sample_percent()):
        open_followup(
            data.request_id,
            domain.SAMPLED,
            township=data.township,
            category=data.category,
            resident_id=data.resident_id,
            volunteer_id=data.volunteer_id,
        )


@holding(followups_store, lambda followup_id, *_args, **_kwargs: followup_id)
def resolve_followup(
    followup_id: str, outcome: str, note: str | None, principal: Principal, causation_id: str
) -> Followup:
    """Record the outcome of the call; `followup.resolved` tells the other stages."""
    followup = get_followup(followup_id)
    now = utcnow()
    events = domain.resolve(
        followup, outcome=outcome, note=note, by=principal.sub, staff_township=principal.township, now=now
    )
    events.append(
        audit.entry(
            principal,
            "followup.resolved",
            "followup",
            followup.id,
            now,
            township=followup.township,
            reason=note,
            outcome=outcome,
        )
    )
    announced = envelopes(
        events, producer=PRODUCER, correlation_id=followup.id, causation_id=causation_id, occurred_at=now
    )
    followups_store.save(followup.id, followup.version, to_state(followup), announced)
    return followup


def list_followups(
    *, township: str | None, status: str | None, reason: str | None, limit: int, before: str | None
) -> list[Followup]:
    """Follow-ups, newest first."""
    query: dict[str, str] = {}
    if township:
        query["township"] = township
    if status:
        query["status"] = status
    if reason:
        query["reasons"] = reason
    found = newest_first(
        FollowupDocument._get_collection(), query, limit=limit, before=before, projection={"outbox": 0}
    )
    return [from_state(Followup, document, status=FollowupStatus) for document in found]


def measure_open_followups() -> None:
    """Set the open follow-ups gauge by township (a periodic job of the worker)."""
    rows = FollowupDocument._get_collection().aggregate(
        [
            {"$match": {"status": FollowupStatus.OPEN.value}},
            {"$group": {"_id": "$township", "count": {"$sum": 1}}},
        ]
    )
    OPEN_FOLLOWUPS.clear()
    for row in rows:
        OPEN_FOLLOWUPS.labels(row["_id"]).set(row["count"])
