"""The requests stage's use cases: load, let the domain decide, save state and events together."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymongo import DESCENDING

from services.common.auth import Principal, mask_phone
from services.common.domain import Missing
from services.common.events import Envelope, make_event
from services.common.ids import new_id, utcnow
from services.common.logs import bind_context
from services.common.store import AlreadyExists, holding
from services.requests.lifecycle import domain as lifecycle
from services.requests.metrics import OPEN_REQUESTS, TRANSITIONS, observe_delta, observe_progress
from services.requests.orders import domain
from services.requests.orders.domain import ServiceRequest
from services.requests.orders.models import (
    RequestDocument,
    from_document,
    next_code,
    requests_store,
    to_document,
)
from services.requests.stats import usecases as stats

PRODUCER = "requests"
CODE_ATTEMPTS = 20


class UnknownRequest(Missing):
    """No request with that id is stored here."""


@dataclass(frozen=True)
class Submitted:
    request: ServiceRequest
    created: bool


def submit_request(
    submission: domain.Submission,
    idempotency_key: str | None,
    causation_id: str,
    request_id: str | None = None,
) -> Submitted:
    """Store a new request with its `request.submitted` event; a repeated key returns the first one."""
    scope = f"{submission.resident_id}:{idempotency_key}" if idempotency_key else None
    if scope:
        existing = RequestDocument._get_collection().find_one({"idempotency_scope": scope}, {"outbox": 0})
        if existing:
            return Submitted(from_document(existing), created=False)
    now = utcnow()
    # A caller may fix the id beforehand (a patrol report names its order before it exists).
    request_id = request_id or new_id()
    event_id = new_id()
    for _ in range(CODE_ATTEMPTS):
        request, events = domain.submit(
            submission,
            request_id=request_id,
            code=next_code(now),
            event_id=event_id,
            now=now,
            masked_phone=mask_phone(submission.contact_phone),
        )
        envelopes = [
            make_event(
                events[0],
                producer=PRODUCER,
                correlation_id=request_id,
                causation_id=causation_id,
                event_id=event_id,
                occurred_at=now,
            )
        ]
        state = {**to_document(request), "idempotency_scope": scope or request_id, "updated_at": now}
        try:
            requests_store.insert(request_id, state, envelopes)
            break
        except AlreadyExists:
            if scope:
                # Two calls with the same key raced; the other one stored first: answer with its request.
                existing = RequestDocument._get_collection().find_one(
                    {"idempotency_scope": scope}, {"outbox": 0}
                )
                if existing is not None:
                    return Submitted(from_document(existing), created=False)
            stored = RequestDocument._get_collection().find_one({"_id": request_id}, {"outbox": 0})
            if stored is not None:
                return Submitted(from_document(stored), created=False)
            # Otherwise the day's code was handed out twice under contention: take the next one.
    else:
        raise RuntimeError("could not find a free request code")
    TRANSITIONS.labels(request.township, request.category, domain.Status.SUBMITTED.value).inc()
    # The HTTP log line of this call then names the request, as every later event's line does.
    bind_context(correlation_id=request.id)
    return Submitted(request, created=True)


def get_request(request_id: str) -> ServiceRequest:
    """A stored request; `UnknownRequest` when there is none."""
    document = requests_store.get(request_id)
    if document is None:
        raise UnknownRequest("no request with that id")
    return from_document(document)


@holding(requests_store, lambda request_id, *_args, **_kwargs: request_id)
def cancel_request(
    request_id: str, principal: Principal, reason: str | None, causation_id: str
) -> ServiceRequest:
    """Cancel a request on behalf of its resident or a dispatcher."""
    request = get_request(request_id)
    now = utcnow()
    event_id = new_id()
    actor = "resident" if principal.sub == request.resident_id else f"{principal.role.value}"
    events = domain.cancel(request, by=actor, reason=reason, event_id=event_id, now=now, by_id=principal.sub)
    envelopes = [
        make_event(
            data,
            producer=PRODUCER,
            correlation_id=request.id,
            causation_id=causation_id,
            event_id=event_id if index == 0 else None,
            occurred_at=now,
        )
        for index, data in enumerate(events)
    ]
    requests_store.save(request.id, request.version, {**to_document(request), "updated_at": now}, envelopes)
    TRANSITIONS.labels(request.township, request.category, domain.Status.CANCELLED.value).inc()
    return request


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
    delta = stats.record_fact(envelope, data)
    progress = lifecycle.record(
        request, envelope.type, data, event_id=envelope.id, occurred_at=envelope.occurred_at, now=now
    )
    envelopes = [
        make_event(
            event, producer=PRODUCER, correlation_id=request.id, causation_id=envelope.id, occurred_at=now
        )
        for event in progress.events
    ]
    requests_store.save(request.id, request.version, {**to_document(request), "updated_at": now}, envelopes)
    observe_progress(request, progress.reached)
    observe_delta(request.township, request.category, delta)


def list_requests(
    *,
    resident_id: str | None = None,
    township: str | None = None,
    status: str | None = None,
    limit: int = 20,
    before: str | None = None,
) -> list[ServiceRequest]:
    """Newest first, filtered; `before` is the id of the last request of the previous page."""
    query: dict[str, Any] = {}
    if resident_id:
        query["resident_id"] = resident_id
    if township:
        query["township"] = township
    if status:
        query["status"] = status
    if before:
        query["_id"] = {"$lt": before}
    cursor = (
        RequestDocument._get_collection()
        .find(query, {"outbox": 0, "timeline": 0})
        .sort([("_id", DESCENDING)])
        .limit(limit)
    )
    return [from_document(document) for document in cursor]


def measure_open_requests() -> None:
    """Set the open-requests gauge from the store (a periodic job of the worker)."""
    open_statuses = [s.value for s in domain.Status if s not in (domain.Status.CLOSED, *domain.SIDE_EXITS)]
    pipeline = [
        {"$match": {"status": {"$in": open_statuses}}},
        {"$group": {"_id": {"township": "$township", "status": "$status"}, "count": {"$sum": 1}}},
    ]
    OPEN_REQUESTS.clear()
    for row in RequestDocument._get_collection().aggregate(pipeline):
        OPEN_REQUESTS.labels(row["_id"]["township"], row["_id"]["status"]).set(row["count"])
