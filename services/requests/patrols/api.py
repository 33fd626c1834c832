"""HTTP entrypoints of patrol reports (小巷管家): stewards file them, stewards and staff follow them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import g
from flask_openapi3 import APIBlueprint, Tag
from pydantic import AnyHttpUrl, AwareDatetime, BaseModel, Field, field_validator

from services.common.auth import STAFF, Principal, Role, require
from services.common.county import Township
from services.common.errors import Forbidden, NotFound
from services.common.ids import utcnow
from services.common.paging import PageQuery
from services.common.schemas import ERROR_RESPONSES, StrictBody
from services.requests.catalog.domain import CategoryCode
from services.requests.orders.schemas import Bilingual, IdempotencyHeader, Urgency
from services.requests.patrols import domain as patrols
from services.requests.patrols import usecases as patrol_usecases

patrols_api = APIBlueprint(
    "patrols",
    __name__,
    url_prefix="/api/v1/patrols",
    abp_tags=[Tag(name="patrols", description="alley stewards' patrol reports (小巷管家)")],
    abp_security=[{"bearer": []}],
    abp_responses=ERROR_RESPONSES,
)


class Location(StrictBody):
    """Where the problem is: township, village or community, street address, optional coordinates."""

    township: Township
    village: str = Field(min_length=1, max_length=50)
    address: str | None = Field(None, max_length=200)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)


class PatrolCreate(StrictBody):
    """A steward's report: where, what, photos, and how it was settled (the tier)."""

    location: Location
    description: str = Field(min_length=1, max_length=2000)
    photo_urls: list[AnyHttpUrl] = Field(default_factory=list, max_length=9)
    tier: patrols.Tier
    resolution_note: str | None = Field(
        None, max_length=1000, description="how it was fixed (required when resolved on site)"
    )
    category: CategoryCode | None = Field(None, description="the service the community should send")
    urgency: Urgency = "normal"
    parties: list[str] = Field(
        default_factory=list, max_length=20, description="who sits at a joint consultation (2 or more)"
    )

    @field_validator("photo_urls")
    @classmethod
    def _web_links_only(cls, urls: list[AnyHttpUrl]) -> list[AnyHttpUrl]:
        for url in urls:
            if url.scheme not in ("http", "https") or not url.host:
                raise ValueError("photo links must be http(s) URLs with a host")
        return urls

    @field_validator("parties")
    @classmethod
    def _named_parties(cls, parties: list[str]) -> list[str]:
        cleaned = [party.strip() for party in parties]
        if any(not party or len(party) > 100 for party in cleaned):
            raise ValueError("each party is a name of 1 to 100 characters")
        return cleaned


class MeetingCreate(StrictBody):
    """A meeting of a joint consultation."""

    held_at: AwareDatetime
    attendees: list[str] = Field(min_length=1, max_length=50)
    summary: str = Field(min_length=1, max_length=4000)
    decision: str | None = Field(None, max_length=2000)


class CloseBody(StrictBody):
    resolution_note: str = Field(min_length=1, max_length=1000)


class PatrolPath(BaseModel):
    report_id: str = Field(min_length=1, max_length=64)


class PatrolListQuery(PageQuery):
    tier: patrols.Tier | None = None
    status: patrols.PatrolStatus | None = None
    township: Township | None = None


class MeetingView(BaseModel):
    held_at: datetime
    attendees: list[str]
    summary: str
    decision: str | None
    recorded_by: str
    recorded_at: datetime


class PatrolView(BaseModel):
    id: str
    steward_id: str
    tier: str
    tier_text: Bilingual
    status: str
    township: str
    village: str
    address: str | None
    latitude: float | None
    longitude: float | None
    description: str
    photo_urls: list[str]
    reported_at: datetime
    resolution_note: str | None
    category: str | None
    request_id: str | None
    request_status: str | None
    parties: list[str]
    meetings: list[MeetingView]
    closed_at: datetime | None


class PatrolPage(BaseModel):
    items: list[PatrolView]
    next_before: str | None


def _visible(principal: Principal, report: patrols.PatrolReport) -> None:
    """The reporting steward and the staff covering the township see a report; others learn nothing."""
    if principal.sub == report.steward_id or principal.covers_township(report.township):
        return
    raise NotFound("no patrol report with that id")


@patrols_api.post("", responses={201: PatrolView, 200: PatrolView})
def file_patrol_report(
    body: PatrolCreate, header: IdempotencyHeader
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """File a patrol report (stewards); a community report enters the loop as an order at once."""
    principal = require(Role.STEWARD)
    if principal.township and principal.township != body.location.township:
        raise Forbidden(f"you patrol {principal.township} only", field="location.township")
    finding = patrols.Finding(
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
    report, created = patrol_usecases.file_report(finding, g.request_id, header.idempotency_key)
    view = present(report, patrol_usecases.order_statuses([report.request_id] if report.request_id else []))
    location = {"Location": f"/api/v1/patrols/{report.id}"}
    if created:
        return view, 201, location
    return view, 200, {**location, "Idempotent-Replayed": "true"}


@patrols_api.get("", responses={200: PatrolPage})
def list_patrol_reports(query: PatrolListQuery) -> dict[str, Any]:
    """A steward's own reports; staff see their township's (county staff: all), filtered by tier."""
    principal = require(Role.STEWARD, *STAFF)
    township = query.township
    steward_id = None
    if not principal.is_staff:
        steward_id = principal.sub
    elif principal.township:
        if township and township != principal.township:
            raise Forbidden(f"you see reports of {principal.township} only", field="township")
        township = principal.township
    found = patrol_usecases.list_reports(
        steward_id=steward_id,
        township=township,
        tier=query.tier.value if query.tier else None,
        status=query.status.value if query.status else None,
        limit=query.limit,
        before=query.before,
    )
    statuses = patrol_usecases.order_statuses([r.request_id for r in found if r.request_id])
    return {
        "items": [present(report, statuses) for report in found],
        "next_before": found[-1].id if len(found) == query.limit else None,
    }


@patrols_api.get("/<report_id>", responses={200: PatrolView})
def get_patrol_report(path: PatrolPath) -> dict[str, Any]:
    """One report with its meetings and, for a community report, its order's progress."""
    principal = require(Role.STEWARD, *STAFF)
    report = patrol_usecases.get_report(path.report_id)
    _visible(principal, report)
    return present(report, patrol_usecases.order_statuses([report.request_id] if report.request_id else []))


@patrols_api.post("/<report_id>/meetings", responses={201: PatrolView})
def add_meeting(path: PatrolPath, body: MeetingCreate) -> tuple[dict[str, Any], int]:
    """Record a meeting of a joint consultation (its steward, or staff of the township)."""
    principal = require(Role.STEWARD, *STAFF)
    _visible(principal, patrol_usecases.get_report(path.report_id))
    meeting = patrols.Meeting(
        held_at=body.held_at,
        attendees=[name.strip() for name in body.attendees],
        summary=body.summary,
        decision=body.decision,
        recorded_by=principal.sub,
        recorded_at=utcnow(),
    )
    return present(patrol_usecases.add_meeting(path.report_id, meeting), {}), 201


@patrols_api.post("/<report_id>/close", responses={200: PatrolView})
def close_consultation(path: PatrolPath, body: CloseBody) -> dict[str, Any]:
    """Close a joint consultation on what was agreed (its steward, or staff of the township)."""
    principal = require(Role.STEWARD, *STAFF)
    _visible(principal, patrol_usecases.get_report(path.report_id))
    return present(patrol_usecases.close_report(path.report_id, body.resolution_note, principal.sub), {})


def present(report: patrols.PatrolReport, order_statuses: dict[str, str]) -> dict[str, Any]:
    """The API's view of a report; a community report is closed once its order is."""
    request_status = order_statuses.get(report.request_id) if report.request_id else None
    status = report.status
    if report.tier == patrols.Tier.REPORTED_TO_COMMUNITY and request_status in (
        "closed",
        "cancelled",
        "rejected",
    ):
        status = patrols.PatrolStatus.CLOSED.value
    zh, en = patrols.TIER_TEXT[patrols.Tier(report.tier)]
    return {
        "id": report.id,
        "steward_id": report.steward_id,
        "tier": report.tier,
        "tier_text": {"zh": zh, "en": en},
        "status": status,
        "township": report.township,
        "village": report.village,
        "address": report.address,
        "latitude": report.latitude,
        "longitude": report.longitude,
        "description": report.description,
        "photo_urls": report.photo_urls,
        "reported_at": report.reported_at,
        "resolution_note": report.resolution_note,
        "category": report.category,
        "request_id": report.request_id,
        "request_status": request_status,
        "parties": report.parties,
        "meetings": report.meetings,
        "closed_at": report.closed_at,
    }
