"""Open311's reads and writes against the requests store: post an order, find orders, follow a token."""

from __future__ import annotations

from typing import Any

from pymongo import DESCENDING

from services.common.ids import new_id
from services.requests.open311 import domain
from services.requests.orders import usecases
from services.requests.orders.domain import ServiceRequest
from services.requests.orders.models import RequestDocument, from_document


def post_request(form: dict[str, Any], causation_id: str) -> tuple[ServiceRequest, str]:
    """Turn a GeoReport POST into an order of the loop; (the order, its token)."""
    posted = domain.parse_post(form, token=new_id())
    result = usecases.submit_request(posted.submission, None, causation_id)
    return result.request, posted.token


def find_requests(search: domain.Search) -> list[ServiceRequest]:
    """Orders matching a search, newest first (ids may be request ids or human codes)."""
    query: dict[str, Any]
    if search.ids:
        ids = list(search.ids)
        query = {"$or": [{"_id": {"$in": ids}}, {"code": {"$in": ids}}]}
    else:
        query = {"submitted_at": {"$gte": search.start, "$lte": search.end}}
        if search.service_codes:
            query["category"] = {"$in": list(search.service_codes)}
        if search.statuses:
            query["status"] = {"$in": list(search.statuses)}
    cursor = (
        RequestDocument._get_collection()
        .find(query, {"outbox": 0})
        .sort([("submitted_at", DESCENDING)])
        .limit(domain.MAX_RESULTS)
    )
    return [from_document(document) for document in cursor]


def find_by_token(token: str) -> ServiceRequest | None:
    """The order an Open311 POST created, by the token it answered with."""
    document = RequestDocument._get_collection().find_one(
        {"source": "open311", "source_ref": token}, {"outbox": 0}
    )
    return from_document(document) if document else None
