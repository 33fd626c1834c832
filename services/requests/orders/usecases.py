"""Residents' orders: load, let the domain decide, save the request and its events together."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from services.common import idempotency
from services.common.auth import Principal, mask_phone
from services.common.domain import Missing
from services.common.events import envelopes
from services.common.ids import new_id, utcnow
from services.common.logs import bind_context
from services.common.paging import Listed
from services.common.rollups import totals
from services.common.store import AlreadyExists, holding
from services.requests import figures
from services.requests.metrics import OPEN_REQUESTS, TRANSITIONS
from services.requests.orders import domain
from services.requests.orders.domain import ServiceRequest
from services.requests.orders.models import (
    forget_code_block,
    from_document,
    next_code,
    requests_store,
    to_document,
)
from services.requests.stations import usecases as stations

PRODUCER = "requests"
CODE_ATTEMPTS = 20
# A village orders one service a handful of times a day; a bucket read is bounded all the same.
SIMILAR_BUCKET_READ = 50


class UnknownRequest(Missing):
    """No request with that id is stored here."""


@dataclass(frozen=True)
class Submitted:
    request: ServiceRequest
    created: bool


def _by_id(request_id: str) -> ServiceRequest | None:
    document = requests_store.get(request_id)
    return from_document(document) if document else None


def _earlier(scope: str, body_print: str | None) -> ServiceRequest | None:
    """The request a key made before, if the body is the same; `IdempotencyKeyReused` if it is not."""
    document = requests_store.find_one(idempotency_scope=scope)
    if document is None:
        return None
    idempotency.check_same_body(document.get("idempotency_fingerprint"), body_print)
    return from_document(document)


def submit_request(
    submission: domain.Submission,
    idempotency_key: str | None,
    causation_id: str,
    request_id: str | None = None,
    body_print: str | None = None,
) -> Submitted:
    """Store a new request with its `request.submitted` event; a repeated key returns the first one.

    `body_print` is the fingerprint of the HTTP body: a key repeated with another body is refused.
    """
    scope = f"{submission.resident_id}:{idempotency_key}" if idempotency_key else None
    # No lookup of the key first: the unique index on idempotency_scope refuses a repeat, and the
    # refusal below answers with the first request, or refuses another body (docs/adr/0062).
    if (station := stations.station_serving(submission.township, submission.village)) is not None:
        submission = dataclasses.replace(submission, station_id=station.id, station=station.name)
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
        outbox = envelopes(
            events,
            producer=PRODUCER,
            correlation_id=request_id,
            causation_id=causation_id,
            occurred_at=now,
            first_event_id=event_id,
        )
        state = {
            **to_document(request),
            "idempotency_scope": scope or request_id,
            "idempotency_fingerprint": body_print,
            "updated_at": now,
        }
        try:
            requests_store.insert(request_id, state, outbox)
            break
        except AlreadyExists:
            # Two calls with the same key raced; the other one stored first: answer with its request.
            if scope and (earlier := _earlier(scope, body_print)) is not None:
                return Submitted(earlier, created=False)
            if (earlier := _by_id(request_id)) is not None:
                return Submitted(earlier, created=False)
            # Otherwise the day's code was handed out twice under contention (the wire server's
            # increments are not atomic): drop this process's block of codes and take a fresh one.
            forget_code_block(now)
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
    outbox = envelopes(
        events,
        producer=PRODUCER,
        correlation_id=request.id,
        causation_id=causation_id,
        occurred_at=now,
        first_event_id=event_id,
    )
    requests_store.save(request.id, request.version, {**to_document(request), "updated_at": now}, outbox)
    TRANSITIONS.labels(request.township, request.category, domain.Status.CANCELLED.value).inc()
    return request


def list_requests(
    *,
    resident_id: str | None = None,
    township: str | None = None,
    status: str | None = None,
    limit: int = 20,
    before: str | None = None,
) -> Listed[ServiceRequest]:
    """Newest first, filtered; `before` is the id of the last request of the previous page.

    A resident's own list, a township's or the county's is walked shelf by shelf; the other
    filters are applied to what those shelves hold.
    """
    if resident_id:
        shelf, key = "resident", resident_id
    elif township:
        shelf, key = "township", township
    else:
        shelf, key = "county", "county"
    wanted = {"resident_id": resident_id, "township": township, "status": status}

    def accept(document: dict[str, Any]) -> bool:
        return all(document.get(name) == value for name, value in wanted.items() if value)

    walked = requests_store.page(shelf, key, limit=limit, before=before, accept=accept)
    return Listed([from_document(document) for document in walked.items], walked.next_before)


def similar_requests(
    *, category: str, township: str, village: str, days: int, limit: int
) -> list[ServiceRequest]:
    """Open requests for the same service in the same village over the last `days` county days."""
    found: list[ServiceRequest] = []
    # One equality on the indexed day bucket per day, newest day first (docs/adr/0086).
    for key in domain.similar_keys(township, village, category, utcnow(), days):
        bucket = requests_store.find_where({"similar_key": key}, limit=SIMILAR_BUCKET_READ)
        requests_of_day = sorted(
            (from_document(document) for document in bucket), key=lambda item: item.submitted_at, reverse=True
        )
        found += [item for item in requests_of_day if item.status in domain.SIMILAR_STATUSES]
        if len(found) >= limit:
            break
    return found[:limit]


def measure_open_requests() -> None:
    """Set the open-requests gauge from its rollup (a periodic job of the worker)."""
    OPEN_REQUESTS.clear()
    for township, stages in totals(figures.OPEN_REQUESTS).items():
        for stage, count in stages.items():
            OPEN_REQUESTS.labels(township, stage).set(count)
