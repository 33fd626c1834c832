"""A request's timeline told as people talk, to the one who reads it (docs/adr/0044).

Each step says when (China time), who (the viewer reads "you"; staff read the role and the actor's
id; nobody else sees a volunteer's full id), what happened, and where the request stood after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from pydantic import Field

from services.common.schemas import View
from services.requests.orders.domain import (
    STATUS_TEXT,
    ServiceRequest,
    Status,
    TimelineEntry,
    derive_status,
    mask_name,
    short_ref,
)
from services.requests.schemas import Bilingual, bilingual


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
