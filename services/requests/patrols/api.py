"""HTTP entrypoints of patrol reports (小巷管家): stewards file them, stewards and staff follow them."""

from __future__ import annotations

from flask import g
from flask_openapi3 import APIBlueprint, Tag

from services.common.auth import STAFF, Principal, Role, require, township_scope
from services.common.errors import Forbidden, NotFound
from services.common.idempotency import fingerprint
from services.common.ids import utcnow
from services.common.schemas import ERROR_RESPONSES, Problem
from services.requests.patrols import domain, usecases
from services.requests.patrols.schemas import (
    CloseBody,
    MeetingCreate,
    PatrolCreate,
    PatrolListQuery,
    PatrolPage,
    PatrolPath,
    PatrolView,
    patrol_page,
    patrol_view,
)
from services.requests.schemas import IdempotencyHeader

patrols_api = APIBlueprint(
    "patrols",
    __name__,
    url_prefix="/api/v1/patrols",
    abp_tags=[Tag(name="patrols", description="alley stewards' patrol reports (小巷管家)")],
    abp_security=[{"bearer": []}],
    abp_responses=ERROR_RESPONSES,
)


def _visible(principal: Principal, report: domain.PatrolReport) -> None:
    """The reporting steward and the staff covering the township see a report; others learn nothing."""
    if principal.sub == report.steward_id or principal.covers_township(report.township):
        return
    raise NotFound("no patrol report with that id")


def _with_order_status(report: domain.PatrolReport) -> PatrolView:
    return patrol_view(report, usecases.order_statuses([report.request_id] if report.request_id else []))


@patrols_api.post("", responses={201: PatrolView, 200: PatrolView})
def file_patrol_report(
    body: PatrolCreate, header: IdempotencyHeader
) -> tuple[PatrolView, int, dict[str, str]]:
    """File a patrol report (stewards); a community report enters the loop as an order at once."""
    principal = require(Role.STEWARD)
    if principal.township and principal.township != body.location.township:
        raise Forbidden(f"you patrol {principal.township} only", field="location.township")
    finding = domain.Finding(
        steward_id=principal.sub,
        township=body.location.township,
        village=body.location.village,
        address=body.location.address,
        latitude=body.location.latitude,
        longitude=body.location.longitude,
        description=body.description,
        photo_urls=tuple(str(url) for url in body.photo_urls),
        tier=body.tier,
        resolution_note=body.resolution_note,
        category=body.category,
        urgency=body.urgency,
        parties=tuple(body.parties),
    )
    report, created = usecases.file_report(finding, g.request_id, header.idempotency_key, fingerprint(body))
    location = {"Location": f"/api/v1/patrols/{report.id}"}
    if created:
        return _with_order_status(report), 201, location
    return _with_order_status(report), 200, {**location, "Idempotent-Replayed": "true"}


@patrols_api.get("", responses={200: PatrolPage})
def list_patrol_reports(query: PatrolListQuery) -> PatrolPage:
    """A steward's own reports; staff see their township's (county staff: all), filtered by tier."""
    principal = require(Role.STEWARD, *STAFF)
    if principal.is_staff:
        steward_id, township = None, township_scope(principal, query.township, "reports")
    else:
        steward_id, township = principal.sub, query.township
    found = usecases.list_reports(
        steward_id=steward_id,
        township=township,
        tier=query.tier.value if query.tier else None,
        status=query.status.value if query.status else None,
        limit=query.limit,
        before=query.before,
    )
    statuses = usecases.order_statuses([report.request_id for report in found if report.request_id])
    return patrol_page(found, statuses, query.limit)


@patrols_api.get("/<report_id>", responses={200: PatrolView})
def get_patrol_report(path: PatrolPath) -> PatrolView:
    """One report with its meetings and, for a community report, its order's progress."""
    principal = require(Role.STEWARD, *STAFF)
    report = usecases.get_report(path.report_id)
    _visible(principal, report)
    return _with_order_status(report)


@patrols_api.post("/<report_id>/meetings", responses={201: PatrolView, 409: Problem})
def add_meeting(path: PatrolPath, body: MeetingCreate) -> tuple[PatrolView, int]:
    """Record a meeting of a joint consultation (its steward, or staff of the township)."""
    principal = require(Role.STEWARD, *STAFF)
    _visible(principal, usecases.get_report(path.report_id))
    meeting = domain.Meeting(
        held_at=body.held_at,
        attendees=[name.strip() for name in body.attendees],
        summary=body.summary,
        decision=body.decision,
        recorded_by=principal.sub,
        recorded_at=utcnow(),
    )
    return patrol_view(usecases.add_meeting(path.report_id, meeting), {}), 201


@patrols_api.post("/<report_id>/close", responses={200: PatrolView, 409: Problem})
def close_consultation(path: PatrolPath, body: CloseBody) -> PatrolView:
    """Close a joint consultation on what was agreed (its steward, or staff of the township)."""
    principal = require(Role.STEWARD, *STAFF)
    _visible(principal, usecases.get_report(path.report_id))
    return patrol_view(usecases.close_report(path.report_id, body.resolution_note, principal.sub), {})
