"""HTTP bodies and views of patrol reports, and the function that builds the view."""

from __future__ import annotations

from datetime import datetime

from pydantic import AnyHttpUrl, AwareDatetime, BaseModel, Field, field_validator

from services.common.county import Township
from services.common.paging import Listed, Page, PageQuery
from services.common.schemas import StrictBody, Urgency, View
from services.requests.catalog.domain import CategoryCode
from services.requests.orders.domain import Status
from services.requests.patrols.domain import TIER_TEXT, PatrolReport, PatrolStatus, Tier, current_status
from services.requests.schemas import Bilingual, bilingual


# --- bodies ------------------------------------------------------------------------------------------
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
    tier: Tier
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
    tier: Tier | None = None
    status: PatrolStatus | None = None
    township: Township | None = None


# --- views -------------------------------------------------------------------------------------------
class MeetingView(View):
    held_at: datetime
    attendees: list[str]
    summary: str
    decision: str | None
    recorded_by: str
    recorded_at: datetime


class PatrolView(View):
    """A patrol report; a community report shows its order's status and is closed once the order is."""

    id: str
    steward_id: str
    tier: Tier
    tier_text: Bilingual
    status: PatrolStatus
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
    request_status: Status | None
    parties: list[str]
    meetings: list[MeetingView]
    closed_at: datetime | None


PatrolPage = Page[PatrolView]


def patrol_view(report: PatrolReport, order_statuses: dict[str, str]) -> PatrolView:
    """The API's view of a report, given the statuses of the orders community reports became."""
    request_status = order_statuses.get(report.request_id) if report.request_id else None
    return PatrolView(
        id=report.id,
        steward_id=report.steward_id,
        tier=Tier(report.tier),
        tier_text=bilingual(TIER_TEXT[Tier(report.tier)]),
        status=current_status(report, request_status),
        township=report.township,
        village=report.village,
        address=report.address,
        latitude=report.latitude,
        longitude=report.longitude,
        description=report.description,
        photo_urls=report.photo_urls,
        reported_at=report.reported_at,
        resolution_note=report.resolution_note,
        category=report.category,
        request_id=report.request_id,
        request_status=Status(request_status) if request_status else None,
        parties=report.parties,
        meetings=[MeetingView.model_validate(meeting) for meeting in report.meetings],
        closed_at=report.closed_at,
    )


def patrol_page(found: Listed[PatrolReport], order_statuses: dict[str, str]) -> PatrolPage:
    """A page of reports."""
    return PatrolPage(**found.body(lambda report: patrol_view(report, order_statuses)))
