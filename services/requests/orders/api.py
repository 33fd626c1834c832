"""HTTP entrypoints of residents' orders: translate a call into a use case and a view."""

from __future__ import annotations

from flask import g
from flask_openapi3 import APIBlueprint, Tag

from services.common.auth import STAFF, Role, require, require_owner_or_staff, township_scope
from services.common.idempotency import fingerprint
from services.common.schemas import ERROR_RESPONSES, Problem
from services.requests.orders import domain, usecases
from services.requests.orders.schemas import (
    CancelBody,
    RequestCreate,
    RequestListQuery,
    RequestPage,
    RequestPath,
    RequestView,
    SimilarPage,
    SimilarQuery,
    request_page,
    request_view,
    similar_page,
)
from services.requests.schemas import IdempotencyHeader

requests_api = APIBlueprint(
    "requests",
    __name__,
    url_prefix="/api/v1/requests",
    abp_tags=[Tag(name="requests", description="residents' orders (点单)")],
    abp_security=[{"bearer": []}],
    abp_responses=ERROR_RESPONSES,
)


@requests_api.post("", responses={201: RequestView, 200: RequestView})
def create_request(body: RequestCreate, header: IdempotencyHeader) -> tuple[RequestView, int, dict[str, str]]:
    """Order a service (residents and alley stewards); a repeated Idempotency-Key answers 200."""
    principal = require(Role.RESIDENT, Role.STEWARD)
    submission = domain.Submission(
        resident_id=principal.sub,
        category=body.category,
        title=body.title,
        description=body.description,
        township=body.township,
        village=body.village,
        address=body.address,
        urgency=body.urgency,
        window_start=body.window.start if body.window else None,
        window_end=body.window.end if body.window else None,
        contact_phone=body.contact_phone,
    )
    result = usecases.submit_request(
        submission, header.idempotency_key, causation_id=g.request_id, body_print=fingerprint(body)
    )
    view = request_view(result.request, principal, with_timeline=True)
    location = {"Location": f"/api/v1/requests/{result.request.id}"}
    if result.created:
        return view, 201, location
    return view, 200, {**location, "Idempotent-Replayed": "true"}


@requests_api.get("/similar", responses={200: SimilarPage})
def similar_requests(query: SimilarQuery) -> SimilarPage:
    """Open requests for the same service in the same village lately: suggested before ordering again."""
    principal = require(Role.RESIDENT, Role.STEWARD, *STAFF)
    found = usecases.similar_requests(
        category=query.category,
        township=query.township,
        village=query.village,
        days=query.days,
        limit=query.limit,
    )
    return similar_page(found, principal, query.days)


@requests_api.get("/<request_id>", responses={200: RequestView})
def get_request(path: RequestPath) -> RequestView:
    """A request with its status and timeline (its resident, or staff covering its township)."""
    principal = require()
    found = usecases.get_request(path.request_id)
    require_owner_or_staff(principal, found.resident_id, found.township, "request")
    return request_view(found, principal, with_timeline=True)


@requests_api.get("", responses={200: RequestPage})
def list_requests(query: RequestListQuery) -> RequestPage:
    """A resident's own requests; staff filter by status and township (township staff see theirs)."""
    principal = require(Role.RESIDENT, Role.STEWARD, *STAFF)
    if principal.is_staff:
        resident_id, township = None, township_scope(principal, query.township, "requests")
    else:
        resident_id, township = principal.sub, query.township
    found = usecases.list_requests(
        resident_id=resident_id,
        township=township,
        status=query.status.value if query.status else None,
        limit=query.limit,
        before=query.before,
    )
    return request_page(found, principal, query.limit)


@requests_api.post("/<request_id>/cancel", responses={200: RequestView, 409: Problem})
def cancel_request(path: RequestPath, body: CancelBody) -> RequestView:
    """Cancel a request before its service has started (its resident, or staff)."""
    principal = require()
    found = usecases.get_request(path.request_id)
    require_owner_or_staff(principal, found.resident_id, found.township, "request")
    cancelled = usecases.cancel_request(path.request_id, principal, body.reason, causation_id=g.request_id)
    return request_view(cancelled, principal, with_timeline=True)
