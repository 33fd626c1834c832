"""Another stage's event on a request: its rollout fact, its timeline, its events, its stage metrics."""

from __future__ import annotations

from typing import Any

from services.common.events import Envelope, envelopes
from services.common.ids import utcnow
from services.common.store import holding
from services.requests.lifecycle import domain
from services.requests.metrics import RATING_SCORES, STAGE_SECONDS, TRANSITIONS
from services.requests.orders.domain import ServiceRequest, Status
from services.requests.orders.models import from_document, requests_store, to_document
from services.requests.orders.usecases import PRODUCER, UnknownRequest
from services.requests.stats.usecases import observe_delta, record_fact

# (interval name, from stage, to stage)
INTERVALS = (
    ("submit_to_dispatch", Status.SUBMITTED, Status.DISPATCHED),
    ("dispatch_to_accept", Status.DISPATCHED, Status.ACCEPTED),
    ("accept_to_complete", Status.ACCEPTED, Status.COMPLETED),
    ("complete_to_rating", Status.COMPLETED, Status.RATED),
)


@holding(requests_store, lambda _envelope, data: data.request_id)
def record_lifecycle_event(envelope: Envelope, data: Any) -> None:
    """Put another stage's event on the request's timeline; closing the request when it is rated."""
    request_id = data.request_id
    document = requests_store.get(request_id)
    if document is None:
        raise UnknownRequest(f"{envelope.type} names request {request_id}, which is not stored here")
    request = from_document(document)
    if request.has_seen(envelope.id):
        return
    now = utcnow()
    # The rollout figures first: rewriting them is harmless if saving the request fails below.
    delta = record_fact(envelope, data)
    progress = domain.record(
        request, envelope.type, data, event_id=envelope.id, occurred_at=envelope.occurred_at, now=now
    )
    outbox = envelopes(
        progress.events,
        producer=PRODUCER,
        correlation_id=request.id,
        causation_id=envelope.id,
        occurred_at=now,
    )
    requests_store.save(request.id, request.version, {**to_document(request), "updated_at": now}, outbox)
    observe_progress(request, progress.reached)
    observe_delta(request.township, request.category, delta)


def observe_progress(request: ServiceRequest, reached: tuple[Status, ...]) -> None:
    """Count the stages a request just reached and time the intervals they close."""
    times = request.stage_times
    for stage in reached:
        TRANSITIONS.labels(request.township, request.category, stage.value).inc()
        for interval, start, end in INTERVALS:
            if stage == end and start in times:
                seconds = max(0.0, (times[end] - times[start]).total_seconds())
                STAGE_SECONDS.labels(request.township, request.category, interval).observe(seconds)
        if stage == Status.RATED and request.rating_score is not None:
            RATING_SCORES.labels(request.township, request.category, str(request.rating_score)).inc()
