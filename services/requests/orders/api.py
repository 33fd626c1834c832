"""HTTP entrypoints of the requests stage: translate a call into a use case and a view."""

from __future__ import annotations

from typing import Any

from flask import g, request
from flask_openapi3 import APIBlueprint, Tag

from services.common.auth import STAFF, Principal, Role, mask_phone, require, require_owner_or_staff
from services.common.errors import Forbidden
from services.common.schemas import ERROR_RESPONSES
from services.requests.catalog.domain import CATEGORIES, URGENCIES
from services.requests.lifecycle import domain as lifecycle
from services.requests.orders import domain, usecases
from services.requests.orders.narration import Viewer, narrate
from services.requests.orders.schemas import (
    CancelBody,
    CategoryView,
    IdempotencyHeader,
    RequestCreate,
    RequestListQuery,
    RequestPage,
    RequestPath,
    RequestView,
)

requests_api = APIBlueprint(
    "requests",
    __name__,
    url_prefix="/api/v1/requests",
    abp_tags=[Tag(name="requests", description="residents' orders (点单)")],
    abp_security=[{"bearer": []}],
    abp_responses=ERROR_RESPONSES,
)
catalog_api = APIBlueprint("catalog", __name__, url_prefix="/api/v1/catalog", abp_tags=[Tag(name="catalog")])


@requests_api.post("", responses={201: RequestView, 200: RequestView})
def create_request(
    body: RequestCreate, header: IdempotencyHeader
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Order a service (residents and alley stewards)."""
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
    result = usecases.submit_request(submission, header.idempotency_key, causation_id=g.request_id)
    view = present(result.request, principal, with_timeline=True)
    location = {"Location": f"/api/v1/requests/{result.request.id}"}
    if result.created:
        return view, 201, location
    return view, 200, {**location, "Idempotent-Replayed": "true"}


@requests_api.get("/<request_id>", responses={200: RequestView})
def get_request(path: RequestPath) -> dict[str, Any]:
    """A request with its status and timeline (its resident, or staff covering its township)."""
    principal = require()
    found = usecases.get_request(path.request_id)
    require_owner_or_staff(principal, found.resident_id, found.township, "request")
    return present(found, principal, with_timeline=True)


@requests_api.get("", responses={200: RequestPage})
def list_requests(query: RequestListQuery) -> dict[str, Any]:
    """A resident's own requests; staff filter by status and township (township staff see theirs)."""
    principal = require(Role.RESIDENT, Role.STEWARD, *STAFF)
    township = query.township
    resident_id = None
    if not principal.is_staff:
        resident_id = principal.sub
    elif principal.township:
        if township and township != principal.township:
            raise Forbidden(f"you see requests of {principal.township} only", field="township")
        township = principal.township
    found = usecases.list_requests(
        resident_id=resident_id,
        township=township,
        status=query.status.value if query.status else None,
        limit=query.limit,
        before=query.before,
    )
    return {
        "items": [present(item, principal, with_timeline=False) for item in found],
        "next_before": found[-1].id if len(found) == query.limit else None,
    }


@requests_api.post("/<request_id>/cancel", responses={200: RequestView, 409: RequestView})
def cancel_request(path: RequestPath) -> dict[str, Any]:
    """Cancel a request before its service has started (its resident, or staff)."""
    principal = require()
    body = CancelBody.model_validate(request.get_json(silent=True) or {})
    found = usecases.get_request(path.request_id)
    require_owner_or_staff(principal, found.resident_id, found.township, "request")
    cancelled = usecases.cancel_request(path.request_id, principal, body.reason, causation_id=g.request_id)
    return present(cancelled, principal, with_timeline=True)


@catalog_api.get("", responses={200: CategoryView})
def list_catalog() -> dict[str, Any]:
    """The services residents can order, with Chinese and English names."""
    return {
        "items": [
            {
                "code": category.code,
                "name": {"zh": category.name_zh, "en": category.name_en},
                "skills": list(category.skills),
                "offer_deadline_minutes": category.offer_deadline_minutes,
                "needs_review": category.needs_review,
                "description": {"zh": category.description_zh, "en": category.description_en},
                "deadlines": {
                    urgency: {
                        "respond_within_minutes": category.deadlines(urgency).respond_within_minutes,
                        "complete_within_hours": category.deadlines(urgency).complete_within_hours,
                    }
                    for urgency in URGENCIES
                },
            }
            for category in CATEGORIES.values()
        ]
    }


SERVICE_CODE_STATUSES = frozenset({domain.Status.ACCEPTED, domain.Status.IN_SERVICE})
# Orders placed for someone without an account of their own: staff pass the code on by phone.
STAFF_RELAYED_SOURCES = frozenset({"pairing", "open311"})


def present(item: domain.ServiceRequest, viewer: Principal, *, with_timeline: bool) -> dict[str, Any]:
    """The API's view of a request; the phone is shown in full to its resident and staff only."""
    category = CATEGORIES[item.category]
    sees_phone = viewer.sub == item.resident_id or viewer.is_staff
    view: dict[str, Any] = {
        "id": item.id,
        "code": item.code,
        "status": item.status.value,
        "status_text": domain.status_text(item.status),
        "category": item.category,
        "category_name": {"zh": category.name_zh, "en": category.name_en},
        "title": item.title,
        "description": item.description,
        "township": item.township,
        "village": item.village,
        "address": item.address,
        "urgency": item.urgency,
        "window": {"start": item.window_start, "end": item.window_end} if item.window_start else None,
        "contact_phone": item.contact_phone if sees_phone else mask_phone(item.contact_phone),
        "resident_id": item.resident_id,
        "volunteer_id": item.volunteer_id,
        "rating_score": item.rating_score,
        "submitted_at": item.submitted_at,
        "rejection_reason": lifecycle.rejection_reason(item),
    }
    relays_code = viewer.is_staff and item.source in STAFF_RELAYED_SOURCES
    if (viewer.sub == item.resident_id or relays_code) and item.status in SERVICE_CODE_STATUSES:
        # Only the resident sees the code: reading it out is how they confirm the visit (check-in/out).
        view["service_code"] = item.service_code
    respond_by, complete_by = category.deadlines(item.urgency).due(item.submitted_at)
    view["deadlines"] = {"respond_by": respond_by, "complete_by": complete_by}
    view["source"] = item.source
    view["source_ref"] = item.source_ref
    view["station"] = item.station
    view["latitude"] = item.latitude
    view["longitude"] = item.longitude
    if with_timeline:
        view["timeline"] = narrate(item, Viewer(viewer.sub, viewer.is_staff))
    return view
