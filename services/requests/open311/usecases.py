"""Open311's reads and writes against the requests store: post an order, find orders, follow a token."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.common.ids import as_utc, new_id
from services.requests.open311 import domain
from services.requests.orders import usecases
from services.requests.orders.domain import ServiceRequest
from services.requests.orders.models import from_document, requests_store

HOUR = timedelta(hours=1)


def post_request(form: dict[str, Any], causation_id: str) -> tuple[ServiceRequest, str]:
    """Turn a GeoReport POST into an order of the loop; (the order, its token)."""
    posted = domain.parse_post(form, token=new_id())
    result = usecases.submit_request(posted.submission, None, causation_id)
    return result.request, posted.token


def find_requests(search: domain.Search) -> list[ServiceRequest]:
    """Orders matching a search, newest first (ids may be request ids or human codes).

    Ids are looked up one by one; a period is read hour by hour, newest first, by the hour each
    order was submitted in (an equality), until the search has its results or its period ends.
    """
    if search.ids:
        found: dict[str, dict[str, Any]] = {}
        for wanted in search.ids:
            document = requests_store.get(wanted) or requests_store.find_one(code=wanted)
            if document is not None:
                found[document["_id"]] = document
        ordered = sorted(found.values(), key=lambda d: as_utc(d["submitted_at"]), reverse=True)
        return [from_document(document) for document in ordered[: domain.MAX_RESULTS]]
    assert search.start is not None and search.end is not None
    start, end = as_utc(search.start), as_utc(search.end)
    codes, statuses = set(search.service_codes or ()), set(search.statuses or ())

    def wanted(document: dict[str, Any]) -> bool:
        submitted = as_utc(document["submitted_at"])
        return (
            start <= submitted <= end
            and (not codes or document.get("category") in codes)
            and (not statuses or document.get("status") in statuses)
        )

    results: list[dict[str, Any]] = []
    hour = end.replace(minute=0, second=0, microsecond=0)
    while hour >= start.replace(minute=0, second=0, microsecond=0) and len(results) < domain.MAX_RESULTS:
        in_hour = [d for d in requests_store.find(submitted_hour=f"{hour:%Y-%m-%dT%H}") if wanted(d)]
        results += sorted(in_hour, key=lambda d: as_utc(d["submitted_at"]), reverse=True)
        hour -= HOUR
    return [from_document(document) for document in results[: domain.MAX_RESULTS]]


def find_by_token(token: str) -> ServiceRequest | None:
    """The order an Open311 POST created, by the token it answered with."""
    document = requests_store.find_one(source_ref=token)
    return from_document(document) if document is not None and document.get("source") == "open311" else None
