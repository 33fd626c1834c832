"""Use cases of ratings: load the rating slot, let the rules decide, save state and events together."""

from __future__ import annotations

from services.common import contracts
from services.common.domain import StateConflict
from services.common.events import Envelope, envelopes
from services.common.ids import new_id, utcnow
from services.common.store import AlreadyExists, ConcurrencyConflict, from_state, holding, to_state
from services.ratings.ratings import domain
from services.ratings.ratings.domain import Rateable, RateableStatus
from services.ratings.ratings.models import ratings_store

PRODUCER = "ratings"


class NothingToRate(StateConflict):
    """No completed service is known for that request (yet)."""


def get_rateable(request_id: str) -> Rateable:
    """The rating slot of a request."""
    document = ratings_store.get(request_id)
    if document is None:
        raise NothingToRate("no completed service is known for this request yet", field="request_id")
    return from_state(Rateable, document, status=RateableStatus)


@holding(ratings_store, lambda request_id, *_args, **_kwargs: request_id)
def rate_request(
    request_id: str, resident_id: str, score: int, comment: str | None, causation_id: str
) -> Rateable:
    """Rate a completed service (评单)."""
    rateable = get_rateable(request_id)
    now = utcnow()
    events = domain.rate(
        rateable, resident_id=resident_id, score=score, comment=comment, rating_id=new_id(), now=now
    )
    announced = envelopes(
        events, producer=PRODUCER, correlation_id=request_id, causation_id=causation_id, occurred_at=now
    )
    ratings_store.save(rateable.id, rateable.version, to_state(rateable), announced)
    return rateable


@holding(ratings_store, lambda _envelope, data: data.request_id)
def on_task_completed(envelope: Envelope, data: contracts.TaskCompleted) -> None:
    """Open the request for its resident's rating."""
    document = ratings_store.get(data.request_id)
    if document is None:
        try:
            ratings_store.insert(data.request_id, to_state(domain.from_completion(data)), [])
        except AlreadyExists:
            raise ConcurrencyConflict("the rating slot appeared meanwhile") from None
        return
    rateable = from_state(Rateable, document, status=RateableStatus)
    if rateable.completed_at is None:
        # The cancellation arrived first but the service was done: the resident may still rate it.
        completed = domain.from_completion(data)
        ratings_store.save(rateable.id, rateable.version, to_state(completed), [])


@holding(ratings_store, lambda _envelope, data: data.request_id)
def on_request_cancelled(envelope: Envelope, data: contracts.RequestCancelled) -> None:
    """A request cancelled before completion cannot be rated."""
    document = ratings_store.get(data.request_id)
    if document is None:
        placeholder = Rateable(
            id=data.request_id,
            status=RateableStatus.CANCELLED,
            resident_id=data.resident_id,
            township=data.township,
            category=data.category,
        )
        try:
            ratings_store.insert(placeholder.id, to_state(placeholder), [])
        except AlreadyExists:
            raise ConcurrencyConflict("the rating slot appeared meanwhile") from None
        return
    rateable = from_state(Rateable, document, status=RateableStatus)
    if domain.cancel(rateable):
        ratings_store.save(rateable.id, rateable.version, to_state(rateable), [])
