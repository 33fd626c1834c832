"""Lifecycle events from the other stages, recorded on a request's timeline (pure, order-tolerant)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.common import contracts
from services.requests.orders.domain import ServiceRequest, Status, TimelineEntry


def _describe(kind: str, data: Any) -> tuple[Status | None, str, str, str, str | None]:
    """(status implied, actor, Chinese text, English text, note) for an event about the request."""
    match kind:
        case "request.reviewed" if data.decision == "rejected":
            reason = data.reason or ""
            return (
                Status.REJECTED,
                "dispatcher",
                f"审核未通过：{reason}",
                f"Rejected by review: {reason}",
                reason,
            )
        case "request.reviewed" if data.decision == "pending":
            return Status.IN_REVIEW, "dispatch", "等待审核", "Waiting for review", data.reason
        case "request.reviewed":
            return Status.IN_REVIEW, "dispatcher", "审核通过", "Approved by review", None
        case "task.offered" if data.team_id:
            return Status.DISPATCHED, "dispatch", "已派单给志愿服务队", "Offered to a volunteer team", None
        case "task.offered":
            return Status.DISPATCHED, "dispatch", "已派单给志愿者", "Offered to a volunteer", None
        case "request.pooled":
            return (
                Status.DISPATCHED,
                "dispatch",
                "已进入抢单池，等待志愿者认领",
                "Open for volunteers to claim",
                None,
            )
        case "request.escalated":
            return Status.ESCALATED, "dispatch", "已转交调度员人工派单", "Passed to a dispatcher", data.reason
        case "task.accepted":
            return Status.ACCEPTED, "volunteer", "志愿者已接单", "A volunteer accepted", None
        case "task.declined":
            return (
                None,
                "volunteer",
                "志愿者未能接单，正在重新派单",
                "The volunteer could not take it; finding another",
                data.reason,
            )
        case "task.checked_in":
            return (
                Status.IN_SERVICE,
                "volunteer",
                "志愿者已到达，服务开始",
                "The volunteer arrived; service started",
                None,
            )
        case "task.completed":
            hours = f"{data.hours:g}"
            return (
                Status.COMPLETED,
                "volunteer",
                f"服务已完成（{hours}小时）",
                f"Service completed ({hours} h)",
                None,
            )
        case "request.rated":
            return (
                Status.RATED,
                "resident",
                f"居民已评价：{data.score}星",
                f"Rated {data.score} stars",
                data.comment,
            )
    raise ValueError(f"{kind} is not about a request's progress")


def _actor_id(kind: str, data: Any) -> str | None:
    """The id of whoever acted in an event (the resident rates; volunteers and reviewers act)."""
    if kind == "request.rated":
        return getattr(data, "resident_id", None)
    if kind == "request.reviewed":
        return getattr(data, "reviewer_id", None)
    return getattr(data, "volunteer_id", None) or getattr(data, "team_id", None)


TRACKED_EVENTS = (
    "request.reviewed",
    "task.offered",
    "request.pooled",
    "request.escalated",
    "task.accepted",
    "task.declined",
    "task.checked_in",
    "task.completed",
    "request.rated",
)


@dataclass(frozen=True)
class Progress:
    """What recording an event did: new statuses reached and events to publish."""

    reached: tuple[Status, ...] = ()
    events: tuple[contracts.EventData, ...] = ()


def record(
    request: ServiceRequest, kind: str, data: Any, *, event_id: str, occurred_at: datetime, now: datetime
) -> Progress:
    """Add a lifecycle event to the timeline (once); close the request once it is rated."""
    if request.has_seen(event_id):
        return Progress()
    before = request.stage_times
    status, actor, text_zh, text_en, note = _describe(kind, data)
    actor_id = _actor_id(kind, data)
    amount = data.hours if kind == "task.completed" else data.score if kind == "request.rated" else None
    request.timeline.append(
        TimelineEntry(event_id, kind, occurred_at, actor, text_zh, text_en, status, note, actor_id, amount)
    )
    request.timeline.sort(key=lambda entry: entry.at)
    if kind in ("task.offered", "task.accepted") and getattr(data, "volunteer_id", None):
        request.volunteer_id = data.volunteer_id
    if kind == "task.accepted" and getattr(data, "service_code", None):
        request.service_code = data.service_code
    events: list[contracts.EventData] = []
    if kind == "request.rated":
        request.rating_score = data.score
        if Status.CLOSED not in before:
            request.timeline.append(
                TimelineEntry(
                    f"{event_id}:closed", "request.closed", now, "requests", "已办结", "Closed", Status.CLOSED
                )
            )
            events.append(
                contracts.RequestClosed(
                    request_id=request.id,
                    township=request.township,
                    category=request.category,
                    outcome="rated",
                    closed_at=now,
                )
            )
    if kind == "request.reviewed" and data.decision == "rejected" and Status.REJECTED not in before:
        events.append(
            contracts.RequestClosed(
                request_id=request.id,
                township=request.township,
                category=request.category,
                outcome="rejected",
                closed_at=now,
            )
        )
    after = request.stage_times
    reached = tuple(status for status in after if status not in before)
    return Progress(reached=reached, events=tuple(events))
