"""Event entrypoints of the notifier: each lifecycle event names who hears of it, and what they hear."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.accounts.notifications import usecases
from services.accounts.notifications.domain import Alert, Topic
from services.accounts.people import usecases as people
from services.common import contracts
from services.common.consumer import Handler, HandlerMap
from services.common.events import Envelope
from services.common.settings import Settings


def handlers(settings: Settings) -> HandlerMap:
    """The notifier's handlers, bound to the worker's settings."""

    def bound(decide: Callable[[Envelope, Any, Settings], None]) -> Handler:
        return lambda envelope, data: decide(envelope, data, settings)

    return {
        ("request.submitted", 1): usecases.remember_owner,
        ("task.offered", 1): bound(on_task_offered),
        ("task.accepted", 1): bound(on_task_accepted),
        ("task.checked_in", 1): bound(on_task_checked_in),
        ("task.completed", 1): bound(on_task_completed),
        ("request.reviewed", 1): bound(on_request_reviewed),
        ("request.cancelled", 1): bound(on_request_cancelled),
        ("request.escalated", 1): bound(on_request_escalated),
        ("rating.flagged", 1): bound(on_rating_flagged),
        ("pairing.visit_due", 1): bound(on_visit_due),
    }


def on_task_offered(envelope: Envelope, data: contracts.TaskOffered, settings: Settings) -> None:
    """An offer: to the volunteer, or to the team's leader who answers for the team."""
    volunteer = data.volunteer_id or (people.team_leader(data.team_id) if data.team_id else None)
    if volunteer is None:
        return
    deadline = data.deadline.astimezone(usecases.domain.CHINA).strftime("%m-%d %H:%M")
    alert = Alert(
        envelope.id,
        Topic.OFFER,
        f"新的服务邀约：{data.title[:20]}",
        f"{data.township}{data.village}：{data.title}。请在 {deadline} 前接单或婉拒。",
        data.request_id,
        data.task_id,
    )
    usecases.notify(envelope, people.accounts_of_subject(volunteer), alert, settings)


def _status(
    envelope: Envelope, request_id: str, title: str, text: str, settings: Settings, **more: Any
) -> None:
    label = usecases.request_label(request_id)
    alert = Alert(envelope.id, Topic.STATUS, title, f"{label}：{text}", request_id, more.get("task_id"))
    usecases.notify(envelope, usecases.resident_of(request_id, more.get("resident_id")), alert, settings)


def on_task_accepted(envelope: Envelope, data: contracts.TaskAccepted, settings: Settings) -> None:
    """The resident hears that a volunteer is coming."""
    _status(
        envelope,
        data.request_id,
        "志愿者已接单",
        "志愿者已接单，到达时请把服务码读给志愿者。",
        settings,
        task_id=data.task_id,
    )


def on_task_checked_in(envelope: Envelope, data: contracts.TaskCheckedIn, settings: Settings) -> None:
    """The resident hears that the service has begun."""
    _status(envelope, data.request_id, "服务开始", "志愿者已到达，服务开始。", settings, task_id=data.task_id)


def on_task_completed(envelope: Envelope, data: contracts.TaskCompleted, settings: Settings) -> None:
    """The resident is asked to rate."""
    _status(
        envelope,
        data.request_id,
        "服务已完成",
        "服务已完成，请为本次服务评分。",
        settings,
        task_id=data.task_id,
        resident_id=data.resident_id,
    )


def on_request_reviewed(envelope: Envelope, data: contracts.RequestReviewed, settings: Settings) -> None:
    """The resident hears the review's outcome."""
    if data.decision == "approved":
        _status(envelope, data.request_id, "审核通过", "已通过审核，正在为您派单。", settings)
    elif data.decision == "rejected":
        _status(
            envelope, data.request_id, "未通过审核", f"未通过审核：{data.reason or '详见服务单'}", settings
        )


def on_request_cancelled(envelope: Envelope, data: contracts.RequestCancelled, settings: Settings) -> None:
    """The resident hears of a cancellation someone else made."""
    if data.cancelled_by != data.resident_id:
        _status(
            envelope,
            data.request_id,
            "服务单已取消",
            "服务单已被取消。",
            settings,
            resident_id=data.resident_id,
        )


def on_request_escalated(envelope: Envelope, data: contracts.RequestEscalated, settings: Settings) -> None:
    """The township's dispatchers hear of a request nobody could be offered."""
    alert = Alert(
        envelope.id,
        Topic.ESCALATION,
        "待人工派单",
        f"{data.township}有一张服务单需要人工派单：{data.reason}",
        data.request_id,
    )
    usecases.notify(envelope, usecases.township_staff(data.township), alert, settings)


def on_rating_flagged(envelope: Envelope, data: contracts.RatingFlagged, settings: Settings) -> None:
    """The township's staff hear of a low rating to call back (回访)."""
    alert = Alert(
        envelope.id,
        Topic.FOLLOWUP,
        "低分评价待回访",
        f"{data.township}一次服务得到 {data.score} 分，请回访。",
        data.request_id,
    )
    usecases.notify(envelope, usecases.township_staff(data.township), alert, settings)


def on_visit_due(envelope: Envelope, data: contracts.PairingVisitDue, settings: Settings) -> None:
    """The paired volunteers hear that a visit is due."""
    due = data.due_at.astimezone(usecases.domain.CHINA).strftime("%m-%d %H:%M")
    alert = Alert(
        envelope.id, Topic.VISIT, "结对帮扶走访到期", f"{data.township}{data.village}的走访应在 {due} 进行。"
    )
    recipients = [
        account for volunteer in data.volunteer_ids for account in people.accounts_of_subject(volunteer)
    ]
    usecases.notify(envelope, recipients, alert, settings)
