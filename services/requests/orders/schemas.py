"""HTTP bodies and views of the requests stage; they double as its OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from services.common.county import Township
from services.common.paging import PageQuery
from services.common.schemas import StrictBody
from services.requests.catalog.domain import CategoryCode
from services.requests.orders.domain import Status

Urgency = Literal["low", "normal", "high", "urgent"]


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
    contact_phone: str | None = Field(None, pattern=r"^\+?[0-9][0-9 -]{4,19}$")


class IdempotencyHeader(BaseModel):
    idempotency_key: str | None = Field(
        None, min_length=1, max_length=100, description="repeat a POST safely: same key, same request"
    )


class RequestPath(BaseModel):
    request_id: str = Field(min_length=1, max_length=64)


class CancelBody(StrictBody):
    reason: str | None = Field(None, max_length=500)


class RequestListQuery(PageQuery):
    status: Status | None = None
    township: Township | None = None


class Bilingual(BaseModel):
    zh: str
    en: str


class Who(BaseModel):
    role: str
    label: Bilingual
    id: str | None = None


class TimelineStep(BaseModel):
    at: datetime
    kind: str
    status: Status | None
    actor: str
    text: Bilingual
    note: str | None = None
    when: Bilingual | None = None
    status_after: Status | None = None
    status_text: Bilingual | None = None
    who: Who | None = None
    said: Bilingual | None = None


class RequestView(BaseModel):
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
    window: dict[str, datetime] | None
    contact_phone: str | None
    resident_id: str
    volunteer_id: str | None
    rating_score: int | None
    submitted_at: datetime
    rejection_reason: str | None = None
    timeline: list[TimelineStep] | None = None
    service_code: str | None = Field(
        None, description="only for the resident, while the service is accepted or under way: read it out"
    )
    deadlines: dict[str, datetime] | None = None
    source: str = "resident"
    source_ref: str | None = None
    station: str | None = None
    latitude: float | None = None
    longitude: float | None = None


class RequestPage(BaseModel):
    items: list[RequestView]
    next_before: str | None


class UrgencyDeadlines(BaseModel):
    respond_within_minutes: int
    complete_within_hours: int


class CategoryView(BaseModel):
    code: str
    name: Bilingual
    skills: list[str]
    offer_deadline_minutes: int
    needs_review: bool
    description: Bilingual | None = None
    deadlines: dict[str, UrgencyDeadlines] | None = None
