"""Rules of the ordering stage (点单): a resident's request and the life it goes through.

Pure: no I/O. The status is derived from the timeline, so lifecycle events may arrive in any
order and any number of times and the request still ends in the same state.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from services.common import contracts
from services.common.domain import DomainError, StateConflict
from services.requests.catalog.domain import CATEGORIES


class Status(enum.StrEnum):
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    DISPATCHED = "dispatched"
    ESCALATED = "escalated"
    ACCEPTED = "accepted"
    IN_SERVICE = "in_service"
    COMPLETED = "completed"
    RATED = "rated"
    CLOSED = "closed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


# How far along the loop a status is; escalated waits at the same point as dispatched.
RANK = {
    Status.SUBMITTED: 0,
    Status.IN_REVIEW: 1,
    Status.DISPATCHED: 2,
    Status.ESCALATED: 2,
    Status.ACCEPTED: 3,
    Status.IN_SERVICE: 4,
    Status.COMPLETED: 5,
    Status.RATED: 6,
    Status.CLOSED: 7,
}
SIDE_EXITS = (Status.CANCELLED, Status.REJECTED)
CANCELLABLE = frozenset(
    {Status.SUBMITTED, Status.IN_REVIEW, Status.DISPATCHED, Status.ESCALATED, Status.ACCEPTED}
)

STATUS_TEXT = {
    Status.SUBMITTED: ("已提交", "Submitted"),
    Status.IN_REVIEW: ("审核中", "In review"),
    Status.DISPATCHED: ("已派单", "Dispatched"),
    Status.ESCALATED: ("等待人工派单", "Waiting for a dispatcher"),
    Status.ACCEPTED: ("已接单", "Accepted"),
    Status.IN_SERVICE: ("服务中", "In service"),
    Status.COMPLETED: ("已完成，待评价", "Completed, waiting for your rating"),
    Status.RATED: ("已评价", "Rated"),
    Status.CLOSED: ("已办结", "Closed"),
    Status.REJECTED: ("未通过审核", "Rejected"),
    Status.CANCELLED: ("已取消", "Cancelled"),
}


class NotCancellable(StateConflict):
    """The service is under way or over."""


@dataclass(frozen=True)
class TimelineEntry:
    """One step in the request's life, as the resident reads it."""

    event_id: str
    kind: str
    at: datetime
    actor: str
    text_zh: str
    text_en: str
    status: Status | None = None
    note: str | None = None
    # Who exactly acted (a volunteer's, reviewer's or staff member's id); shown to staff only.
    actor_id: str | None = None
    # The figure a step carries: the hours of a completed service, the stars of a rating.
    amount: float | None = None


@dataclass
class ServiceRequest:
    """A resident's order and everything known about its progress."""

    id: str
    code: str
    resident_id: str
    category: str
    title: str
    description: str
    township: str
    village: str
    submitted_at: datetime
    address: str | None = None
    urgency: str = "normal"
    window_start: datetime | None = None
    window_end: datetime | None = None
    contact_phone: str | None = None
    timeline: list[TimelineEntry] = field(default_factory=list)
    volunteer_id: str | None = None
    rating_score: int | None = None
    # The code the volunteer's task was accepted with; the resident reads it out at check-in/out.
    service_code: str | None = None
    version: int = 1
    # Where the order came from (resident, patrol, pairing, wish, open311) and what it refers to.
    source: str = "resident"
    source_ref: str | None = None
    # The station of the order's village: its id (the identity dispatch compares) and its name.
    station_id: str | None = None
    station: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    # What the source adds: a wish's beneficiary, an Open311 caller's name and attributes, ...
    source_details: dict[str, Any] | None = None

    @property
    def status(self) -> Status:
        """The furthest point reached; a cancellation or rejection ends it wherever it was."""
        return derive_status(self.timeline)

    @property
    def stage_times(self) -> dict[Status, datetime]:
        """When each status was first reached."""
        times: dict[Status, datetime] = {}
        for entry in self.timeline:
            if entry.status is not None and entry.status not in times:
                times[entry.status] = entry.at
        return times

    def has_seen(self, event_id: str) -> bool:
        """Whether this event already left its mark on the timeline."""
        return any(entry.event_id == event_id for entry in self.timeline)


def derive_status(timeline: list[TimelineEntry]) -> Status:
    """The status a timeline implies, whatever order its entries arrived in."""
    statuses = {entry.status for entry in timeline if entry.status is not None}
    for side_exit in SIDE_EXITS:
        if side_exit in statuses:
            return side_exit
    reached = [(RANK[entry.status], entry.at, entry.status) for entry in timeline if entry.status in RANK]
    return max(reached)[2] if reached else Status.SUBMITTED


# --- commands --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Submission:
    """What a resident asks for."""

    resident_id: str
    category: str
    title: str
    description: str
    township: str
    village: str
    address: str | None = None
    urgency: str = "normal"
    window_start: datetime | None = None
    window_end: datetime | None = None
    contact_phone: str | None = None
    source: str = "resident"
    source_ref: str | None = None
    # Set by the use case from the stations it knows, never by a caller: the village's station.
    station_id: str | None = None
    station: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    source_details: dict[str, Any] | None = None
    # Only travels on the event: dispatch offers a pairing visit to these volunteers first.
    preassigned_volunteer_ids: tuple[str, ...] = ()


SUBMITTED_TEXT = {
    "resident": ("已提交需求", "Request submitted"),
    "patrol": ("小巷管家巡查上报", "Reported by an alley steward on patrol"),
    "pairing": ("结对帮扶走访", "A visit of a pairing"),
    "wish": ("工作人员发布微心愿", "A micro-wish posted by staff"),
    "open311": ("通过 Open311 接口提交", "Submitted through Open311"),
}


def submit(
    submission: Submission,
    *,
    request_id: str,
    code: str,
    event_id: str,
    now: datetime,
    masked_phone: str | None,
) -> tuple[ServiceRequest, list[contracts.EventData]]:
    """A new request and its `request.submitted` event."""
    category = CATEGORIES.get(submission.category)
    if category is None:
        raise DomainError(f"unknown category {submission.category!r}", field="category")
    if submission.window_start and submission.window_end and submission.window_end <= submission.window_start:
        raise DomainError("the window must end after it starts", field="window.end")
    request = ServiceRequest(
        id=request_id,
        code=code,
        submitted_at=now,
        **{
            name: getattr(submission, name)
            for name in Submission.__dataclass_fields__
            if name != "preassigned_volunteer_ids"
        },
    )
    if submission.latitude is not None and not -90 <= submission.latitude <= 90:
        raise DomainError("latitude must be between -90 and 90", field="latitude")
    if submission.longitude is not None and not -180 <= submission.longitude <= 180:
        raise DomainError("longitude must be between -180 and 180", field="longitude")
    submitted_zh, submitted_en = SUBMITTED_TEXT.get(submission.source, SUBMITTED_TEXT["resident"])
    request.timeline.append(
        TimelineEntry(
            event_id,
            "request.submitted",
            now,
            "resident",
            submitted_zh,
            submitted_en,
            status=Status.SUBMITTED,
            actor_id=submission.resident_id,
        )
    )
    window = (
        contracts.TimeWindow(start=submission.window_start, end=submission.window_end)
        if submission.window_start and submission.window_end
        else None
    )
    event = contracts.RequestSubmitted(
        request_id=request.id,
        code=request.code,
        resident_id=request.resident_id,
        category=category.code,
        skills_required=list(category.skills),
        title=request.title,
        description=request.description,
        township=request.township,
        village=request.village,
        address=request.address,
        urgency=request.urgency,
        window=window,
        needs_review=category.needs_review,
        contact_phone_masked=masked_phone,
        submitted_at=now,
        source=submission.source,
        source_ref=submission.source_ref,
        station_id=submission.station_id,
        station=submission.station,
        latitude=submission.latitude,
        longitude=submission.longitude,
        preassigned_volunteer_ids=list(submission.preassigned_volunteer_ids),
    )
    return request, [event]


def cancel(
    request: ServiceRequest,
    *,
    by: str,
    reason: str | None,
    event_id: str,
    now: datetime,
    by_id: str | None = None,
) -> list[contracts.EventData]:
    """Cancel a request that nobody has started serving yet."""
    if request.status not in CANCELLABLE:
        raise NotCancellable(f"a request that is {request.status.value} can no longer be cancelled")
    note = reason or None
    request.timeline.append(
        TimelineEntry(
            event_id,
            "request.cancelled",
            now,
            by,
            "已取消" + (f"：{note}" if note else ""),
            "Cancelled" + (f": {note}" if note else ""),
            status=Status.CANCELLED,
            note=note,
            actor_id=by_id,
        )
    )
    return [
        contracts.RequestCancelled(
            request_id=request.id,
            resident_id=request.resident_id,
            township=request.township,
            category=request.category,
            cancelled_by=by,
            reason=note,
            cancelled_at=now,
        ),
        contracts.RequestClosed(
            request_id=request.id,
            township=request.township,
            category=request.category,
            outcome="cancelled",
            closed_at=now,
        ),
    ]


def rejection_reason(request: ServiceRequest) -> str | None:
    """Why review rejected the request, as the resident reads it (None unless rejected)."""
    for entry in request.timeline:
        if entry.kind == "request.reviewed" and entry.status == Status.REJECTED:
            return entry.note
    return None


# --- who sees what ---------------------------------------------------------------------------------
SERVICE_CODE_STATUSES = frozenset({Status.ACCEPTED, Status.IN_SERVICE})
# Orders placed for someone without an account of their own: staff pass the code on by phone.
STAFF_RELAYED_SOURCES = frozenset({"pairing", "open311"})


def sees_service_code(request: ServiceRequest, viewer_id: str, viewer_is_staff: bool) -> bool:
    """Whether the viewer is shown the service code: its resident (or staff relaying it), while it is used."""
    # Reading the code out is how the resident confirms the visit (check-in and check-out).
    relays_code = viewer_is_staff and request.source in STAFF_RELAYED_SOURCES
    return (viewer_id == request.resident_id or relays_code) and request.status in SERVICE_CODE_STATUSES


def sees_phone(request: ServiceRequest, viewer_id: str, viewer_is_staff: bool) -> bool:
    """Whether the viewer is shown the contact phone in full: its resident and staff only."""
    return viewer_id == request.resident_id or viewer_is_staff


def mask_name(name: str | None) -> str:
    """`张秀英` → `张*英`, `李明` → `李*`: recognisable to neighbours, not a full name in public."""
    if not name:
        return ""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def short_ref(actor_id: str | None) -> str:
    """The last four characters of an id: enough to tell two volunteers apart, no more."""
    return f"…{actor_id[-4:]}" if actor_id else ""


# --- similar requests (suggested as duplicates before ordering) --------------------------------------
# The county keeps China Standard Time; a "day" of orders is its calendar day there.
COUNTY_UTC_OFFSET = timedelta(hours=8)
SIMILAR_DAYS_MAX = 14


def similar_key(township: str, village: str, category: str, submitted_at: datetime) -> str:
    """The bucket of orders for one service in one village on one county day.

    A top-level equality the database answers from an index, whatever the history's size: looking
    back N days is N lookups of one small bucket each, never a range over every order of a village.
    """
    day = (submitted_at + COUNTY_UTC_OFFSET).date()
    return f"{township}|{village}|{category}|{day:%Y%m%d}"


def similar_keys(township: str, village: str, category: str, now: datetime, days: int) -> list[str]:
    """The buckets of the last `days` county days, today first."""
    return [similar_key(township, village, category, now - timedelta(days=back)) for back in range(days)]


# Requests still going somewhere: a neighbour can follow or join one instead of ordering again.
SIMILAR_STATUSES = CANCELLABLE | {Status.IN_SERVICE}
