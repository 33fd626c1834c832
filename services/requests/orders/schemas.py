"""HTTP bodies and views of residents' orders, and the functions that build the views.

The timeline in a view is told by `orders.timeline`.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from services.common.auth import Principal, mask_phone
from services.common.county import Township
from services.common.paging import Listed, Page, PageQuery
from services.common.schemas import Phone, StrictBody, Urgency, View
from services.requests.catalog.domain import CATEGORIES, CategoryCode
from services.requests.orders.domain import (
    SIMILAR_DAYS_MAX,
    STATUS_TEXT,
    ServiceRequest,
    Status,
    rejection_reason,
    sees_phone,
    sees_service_code,
)
from services.requests.orders.timeline import TimelineStep, Viewer, timeline_view, when_text
from services.requests.schemas import Bilingual, bilingual


# --- bodies ------------------------------------------------------------------------------------------
class Window(StrictBody):
    """When the resident would like the service, as two times with a time zone."""

    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ends_after_start(self) -> Window:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class RequestCreate(StrictBody):
    """A resident's order (点单)."""

    category: CategoryCode
    title: str = Field(min_length=1, max_length=100)
    description: str = Field(min_length=1, max_length=2000)
    township: Township
    village: str = Field(min_length=1, max_length=50, description="village or community")
    address: str | None = Field(None, max_length=200)
    urgency: Urgency = "normal"
    window: Window | None = None
    contact_phone: Phone | None = None


class RequestPath(BaseModel):
    request_id: str = Field(min_length=1, max_length=64)


class CancelBody(StrictBody):
    """Why the request is cancelled; the body may be left out."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, openapi_extra={"required": False})

    reason: str | None = Field(None, max_length=500)

    @model_validator(mode="before")
    @classmethod
    def _no_body_is_no_reason(cls, value: object) -> object:
        return {} if value is None else value


class SimilarQuery(BaseModel):
    """What the resident is about to order: the same service in the same village."""

    category: CategoryCode
    township: Township
    village: str = Field(min_length=1, max_length=50)
    days: int = Field(7, ge=1, le=SIMILAR_DAYS_MAX, description="county days to look back, today included")
    limit: int = Field(5, ge=1, le=20)


class RequestListQuery(PageQuery):
    status: Status | None = None
    township: Township | None = None


# --- views -------------------------------------------------------------------------------------------
class RequestWindow(View):
    start: datetime
    end: datetime


class RequestDeadlines(View):
    respond_by: datetime
    complete_by: datetime


class RequestView(View):
    """A request as its resident or staff see it; the timeline only where one request is shown."""

    id: str
    code: str
    status: Status
    status_text: Bilingual
    category: str
    category_name: Bilingual
    title: str
    description: str
    township: str
    village: str
    address: str | None
    urgency: str
    window: RequestWindow | None
    contact_phone: str | None = Field(description="in full for its resident and staff, masked for others")
    resident_id: str
    volunteer_id: str | None
    rating_score: int | None
    submitted_at: datetime
    rejection_reason: str | None
    service_code: str | None = Field(
        description="only for the resident, while the service is accepted or under way: read it out"
    )
    deadlines: RequestDeadlines
    source: str
    source_ref: str | None
    station_id: str | None = Field(description="the station of the order's village, when one is known")
    station: str | None = Field(description="that station's name")
    latitude: float | None
    longitude: float | None
    timeline: list[TimelineStep] | None


RequestPage = Page[RequestView]


class SimilarView(View):
    """A neighbour's open request for the same service: enough to recognise it, nothing personal."""

    code: str
    title: str
    status: Status
    status_text: Bilingual
    category_name: Bilingual
    village: str
    submitted_at: datetime
    when: Bilingual
    yours: bool = Field(description="the caller ordered it: open it rather than order again")
    id: str | None = Field(description="only for the caller's own requests (and staff)")


class SimilarPage(View):
    """Open requests like the one about to be ordered, newest first."""

    items: list[SimilarView]
    days: int


def similar_page(found: list[ServiceRequest], viewer: Principal, days: int) -> SimilarPage:
    """Similar requests as a neighbour may see them: no names, phones or addresses of others."""
    items = []
    for item in found:
        yours = item.resident_id == viewer.sub
        category = CATEGORIES[item.category]
        items.append(
            SimilarView(
                code=item.code,
                title=item.title,
                status=item.status,
                status_text=bilingual(STATUS_TEXT[item.status]),
                category_name=Bilingual(zh=category.name_zh, en=category.name_en),
                village=item.village,
                submitted_at=item.submitted_at,
                when=when_text(item.submitted_at),
                yours=yours,
                id=item.id if yours or viewer.is_staff else None,
            )
        )
    return SimilarPage(items=items, days=days)


def request_view(item: ServiceRequest, viewer: Principal, *, with_timeline: bool) -> RequestView:
    """The API's view of a request; the phone is shown in full to its resident and staff only."""
    category = CATEGORIES[item.category]
    respond_by, complete_by = category.deadlines(item.urgency).due(item.submitted_at)
    window = RequestWindow(start=item.window_start, end=item.window_end) if item.window_start else None
    phone_in_full = sees_phone(item, viewer.sub, viewer.is_staff)
    return RequestView(
        id=item.id,
        code=item.code,
        status=item.status,
        status_text=bilingual(STATUS_TEXT[item.status]),
        category=item.category,
        category_name=Bilingual(zh=category.name_zh, en=category.name_en),
        title=item.title,
        description=item.description,
        township=item.township,
        village=item.village,
        address=item.address,
        urgency=item.urgency,
        window=window,
        contact_phone=item.contact_phone if phone_in_full else mask_phone(item.contact_phone),
        resident_id=item.resident_id,
        volunteer_id=item.volunteer_id,
        rating_score=item.rating_score,
        submitted_at=item.submitted_at,
        rejection_reason=rejection_reason(item),
        service_code=item.service_code if sees_service_code(item, viewer.sub, viewer.is_staff) else None,
        deadlines=RequestDeadlines(respond_by=respond_by, complete_by=complete_by),
        source=item.source,
        source_ref=item.source_ref,
        station_id=item.station_id,
        station=item.station,
        latitude=item.latitude,
        longitude=item.longitude,
        timeline=timeline_view(item, Viewer(viewer.sub, viewer.is_staff)) if with_timeline else None,
    )


def request_page(found: Listed[ServiceRequest], viewer: Principal) -> RequestPage:
    """A page of requests, without their timelines."""
    return RequestPage(**found.body(lambda item: request_view(item, viewer, with_timeline=False)))
