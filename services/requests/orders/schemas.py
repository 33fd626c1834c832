"""HTTP bodies and views of residents' orders, and the functions that build the views.

The timeline is told as people talk: each step says when (China time), who (the viewer reads
"you"; staff read the role and the actor's id; nobody else sees a volunteer's full id), what
happened, and where the request stood after it (docs/adr/0044).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from services.common.auth import Principal, mask_phone
from services.common.county import Township
from services.common.paging import Page, PageQuery, next_before
from services.common.schemas import Phone, StrictBody, Urgency, View
from services.requests.catalog.domain import CATEGORIES, CategoryCode
from services.requests.orders.domain import (
    SIMILAR_DAYS_MAX,
    STATUS_TEXT,
    ServiceRequest,
    Status,
    TimelineEntry,
    derive_status,
    mask_name,
    rejection_reason,
    sees_phone,
    sees_service_code,
    short_ref,
)
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
class Who(View):
    """The actor of a step: "you" for the viewer, a role and (for staff and the actor) an id."""

    role: str
    label: Bilingual
    id: str | None = None


class TimelineStep(View):
    """One step of the request's life, told to one viewer."""

    at: datetime
    when: Bilingual
    kind: str
    status: Status | None
    status_after: Status
    status_text: Bilingual
    actor: str
    who: Who
    text: Bilingual = Field(description="the short record of the step, as stored")
    said: Bilingual = Field(description="the step said as a person would say it to the viewer")
    note: str | None


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


def request_page(found: list[ServiceRequest], viewer: Principal, limit: int) -> RequestPage:
    """A page of requests, without their timelines."""
    return RequestPage(
        items=[request_view(item, viewer, with_timeline=False) for item in found],
        next_before=next_before(found, limit, key=lambda item: item.id),
    )


# --- the timeline as people talk ---------------------------------------------------------------------
# The county keeps China Standard Time (no daylight saving), so a fixed offset is exact.
CHINA_TIME = timezone(timedelta(hours=8), "CST")

# How each source names the person who placed the order, seen from the outside.
ORDERER = {
    "resident": ("居民", "the resident"),
    "patrol": ("小巷管家", "the alley steward"),
    "wish": ("工作人员", "staff"),
    "pairing": ("结对帮扶", "the pairing programme"),
    "open311": ("Open311 提交人", "the Open311 caller"),
}
OFFER_KINDS = frozenset({"task.offered"})
ROLES = {
    "volunteer": ("志愿者", "volunteer"),
    "dispatch": ("派单系统", "the dispatch service"),
    "dispatcher": ("调度员", "a dispatcher"),
    "admin": ("管理员", "an administrator"),
    "steward": ("小巷管家", "the alley steward"),
    "requests": ("系统", "the system"),
}


@dataclass(frozen=True)
class Viewer:
    """Who reads the timeline: their id, and whether they are staff."""

    id: str
    is_staff: bool = False


def when_text(at: datetime) -> Bilingual:
    """The moment in county time, as a resident says it."""
    local = at.astimezone(CHINA_TIME)
    return Bilingual(
        zh=f"{local.month}月{local.day}日 {local:%H:%M}", en=f"{local.day} {local:%b}, {local:%H:%M}"
    )


def _who(entry: TimelineEntry, request: ServiceRequest, viewer: Viewer) -> Who:
    """The actor of a step: "you" for the viewer, a role (and masked or full id) for others."""
    # An offer is made by dispatch; the id it carries is the volunteer offered to, not the actor.
    actor_id = None if entry.kind in OFFER_KINDS else entry.actor_id
    is_viewer = actor_id is not None and actor_id == viewer.id
    if entry.actor == "resident" and (is_viewer or (actor_id is None and viewer.id == request.resident_id)):
        zh, en = "您", "you"
        role = "resident"
    elif entry.actor == "resident":
        zh, en = ORDERER.get(request.source, ORDERER["resident"])
        role = "resident"
    elif is_viewer:
        zh, en = "您", "you"
        role = entry.actor
    else:
        zh, en = ROLES.get(entry.actor, (entry.actor, entry.actor))
        role = entry.actor
        if entry.actor == "volunteer" and actor_id:
            zh, en = volunteer_label(actor_id, viewer)
    shows_id = viewer.is_staff or is_viewer
    return Who(role=role, label=Bilingual(zh=zh, en=en), id=actor_id if shows_id else None)


def volunteer_label(volunteer_id: str | None, viewer: Viewer) -> tuple[str, str]:
    """How a volunteer is named: by role to staff (who get the id beside it), by a short ref to residents."""
    if volunteer_id is None or viewer.is_staff:
        return ROLES["volunteer"]
    return f"志愿者{short_ref(volunteer_id)}", f"volunteer {short_ref(volunteer_id)}"


def _sentence(entry: TimelineEntry, request: ServiceRequest, who: Who, viewer: Viewer) -> tuple[str, str]:
    """What happened, in one sentence each in Chinese and English."""
    name_zh, name_en = who.label.zh, who.label.en
    owner = viewer.id == request.resident_id
    note = entry.note or ""
    title = request.title
    amount = entry.amount
    match entry.kind:
        case "request.submitted":
            beneficiary = mask_name((request.source_details or {}).get("beneficiary", {}).get("name"))
            match request.source:
                case "patrol":
                    return (
                        f"{name_zh}巡查时发现问题，上报社区：「{title}」",
                        f"{_cap(name_en)} found a problem on patrol and reported it: “{title}”",
                    )
                case "wish":
                    return (
                        f"{name_zh}为{beneficiary or '困难群众'}发布了微心愿「{title}」",
                        f"{_cap(name_en)} posted the micro-wish “{title}” for {beneficiary or 'someone'}",
                    )
                case "pairing":
                    return f"结对帮扶的走访已安排：「{title}」", f"A pairing visit is arranged: “{title}”"
                case "open311":
                    return (
                        f"{name_zh}通过 Open311 提交了「{title}」",
                        f"{_cap(name_en)} submitted “{title}” via Open311",
                    )
            return f"{name_zh}提交了需求「{title}」", f"{_cap(name_en)} asked for “{title}”"
        case "task.offered" if "服务队" in entry.text_zh:
            return (
                "已派给志愿服务队，等队长确认",
                "Offered to a volunteer team; waiting for its leader to confirm",
            )
        case "task.offered":
            target_zh, target_en = volunteer_label(entry.actor_id, viewer)
            if viewer.is_staff and entry.actor_id:
                target_zh, target_en = f"{target_zh} {entry.actor_id}", f"{target_en} {entry.actor_id}"
            return (
                f"已派给{target_zh}，等对方确认",
                f"Offered to {target_en}; waiting for them to confirm",
            )
        case "request.pooled":
            return (
                "已发布到抢单池，附近的志愿者可以认领",
                "Posted to the pool; volunteers nearby can claim it",
            )
        case "request.escalated":
            return (
                "暂时没有合适的志愿者，调度员会亲自安排",
                "No suitable volunteer right now; a dispatcher will arrange it in person",
            )
        case "request.reviewed" if entry.status == Status.REJECTED:
            return f"{name_zh}审核未通过：{note}", f"{_cap(name_en)} turned it down: {note}"
        case "request.reviewed":
            return f"{name_zh}审核通过", f"{_cap(name_en)} approved it"
        case "task.accepted":
            return f"{name_zh}接下了这件事", f"{_cap(name_en)} took it on"
        case "task.declined":
            return (
                f"{name_zh}这次来不了，正在另找一位",
                f"{_cap(name_en)} can't make it; finding someone else",
            )
        case "task.checked_in":
            return f"{name_zh}到了，服务开始", f"{_cap(name_en)} arrived and started"
        case "task.completed":
            hours = f"{amount:g}" if amount is not None else _hours_from(entry.text_en)
            ask_zh, ask_en = ("，请您评价", ". Please rate it") if owner else ("", "")
            return (
                f"{name_zh}完成了服务，用时{hours}小时{ask_zh}",
                f"{_cap(name_en)} finished the service in {hours} h{ask_en}",
            )
        case "request.rated":
            stars = f"{amount:g}" if amount is not None else ""
            return f"{name_zh}给了{stars}星评价", f"{_cap(name_en)} gave {stars} stars"
        case "request.closed":
            return (
                ("这件事办结了，谢谢您", "All done, thank you")
                if owner
                else (
                    "这件事办结了",
                    "All done",
                )
            )
        case "request.cancelled":
            reason_zh, reason_en = (f"：{note}", f": {note}") if note else ("", "")
            return f"{name_zh}取消了这个需求{reason_zh}", f"{_cap(name_en)} cancelled it{reason_en}"
    # A kind this module does not know yet (a newer stage's event): its stored text still reads well.
    return entry.text_zh, entry.text_en


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _hours_from(text_en: str) -> str:
    found = re.search(r"\(([\d.]+) h\)", text_en)
    return found.group(1) if found else "?"


def timeline_view(request: ServiceRequest, viewer: Viewer) -> list[TimelineStep]:
    """Every step in time order with when, who, what, and the status the request stood at after it."""
    # Ties in time are broken by event id, so the story is the same whatever order events arrived in.
    ordered = sorted(request.timeline, key=lambda entry: (entry.at, entry.event_id))
    steps = []
    for index, entry in enumerate(ordered):
        who = _who(entry, request, viewer)
        said_zh, said_en = _sentence(entry, request, who, viewer)
        standing = derive_status(ordered[: index + 1])
        steps.append(
            TimelineStep(
                at=entry.at,
                when=when_text(entry.at),
                kind=entry.kind,
                status=entry.status,
                status_after=standing,
                status_text=bilingual(STATUS_TEXT[standing]),
                actor=entry.actor,
                who=who,
                text=Bilingual(zh=entry.text_zh, en=entry.text_en),
                said=Bilingual(zh=said_zh, en=said_en),
                note=entry.note,
            )
        )
    return steps
