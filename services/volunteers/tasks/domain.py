"""Rules of the task inbox (接单): the tasks offered to volunteers and teams, and what comes of them.

Pure: no I/O. A task is created by an offer from dispatch (or a claim from the pool); only the
volunteer it was offered to, or the leader of the team it was offered to, may accept or decline it,
and each step only from the state before it. Accepting makes the code the resident reads out at
check-in and check-out (docs/adr/0051).
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from services.common import contracts
from services.common.domain import DomainError, Missing, StateConflict
from services.volunteers.organisation.domain import Team


class NotYourTask(Missing):
    """The task was not offered to this volunteer (or their team)."""


class WrongTaskState(StateConflict):
    """The task is not in a state that allows this step."""


class TaskStatus(enum.StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    IN_SERVICE = "in_service"
    COMPLETED = "completed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


OPEN_STATUSES = frozenset({TaskStatus.OFFERED, TaskStatus.ACCEPTED, TaskStatus.IN_SERVICE})


@dataclass
class Task:
    """An offer of one request to one volunteer (or team), and what came of it."""

    id: str
    request_id: str
    attempt: int
    level: str
    status: TaskStatus
    resident_id: str
    category: str
    township: str
    village: str
    title: str
    description: str
    offered_at: datetime
    deadline: datetime
    volunteer_id: str | None = None
    team_id: str | None = None
    urgency: str = "normal"
    address: str | None = None
    contact_phone_masked: str | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    accepted_at: datetime | None = None
    checked_in_at: datetime | None = None
    completed_at: datetime | None = None
    decline_reason: str | None = None
    withdrawn_reason: str | None = None
    hours: float | None = None
    participants: list[dict[str, object]] = field(default_factory=list)
    rating_score: int | None = None
    # Hours (docs/adr/0051): the resident's code, wrong attempts, when the service ended.
    service_code: str | None = None
    code_attempts: int = 0
    code_locked_until: datetime | None = None
    checked_out_at: datetime | None = None
    hours_capped: bool = False
    version: int = 1


def task_from_offer(offer: contracts.TaskOffered, *, superseded: bool, request_cancelled: bool) -> Task:
    """The task an offer creates; born withdrawn if a later offer or a cancellation got here first."""
    task = Task(
        id=offer.task_id,
        request_id=offer.request_id,
        attempt=offer.attempt,
        level=offer.level,
        status=TaskStatus.OFFERED,
        resident_id=offer.resident_id,
        category=offer.category,
        township=offer.township,
        village=offer.village,
        title=offer.title,
        description=offer.description,
        offered_at=offer.offered_at,
        deadline=offer.deadline,
        volunteer_id=offer.volunteer_id,
        team_id=offer.team_id,
        urgency=offer.urgency,
        address=offer.address,
        contact_phone_masked=offer.contact_phone_masked,
        window_start=offer.window.start if offer.window else None,
        window_end=offer.window.end if offer.window else None,
    )
    if request_cancelled:
        withdraw_for_cancellation(task)
    elif superseded:
        withdraw_offer(task)
    return task


def task_from_claim(
    pooled: contracts.RequestPooled, task_id: str, volunteer_id: str, now: datetime, service_code: str
) -> tuple[Task, list[contracts.EventData]]:
    """The task a won claim of a pooled request makes: accepted at once by the volunteer who claimed it."""
    task = Task(
        id=task_id,
        request_id=pooled.request_id,
        attempt=0,
        level="pool",
        status=TaskStatus.OFFERED,
        resident_id=pooled.resident_id or "",
        category=pooled.category,
        township=pooled.township,
        village=pooled.village,
        title=pooled.title,
        description=pooled.description or "",
        offered_at=now,
        deadline=now,
        volunteer_id=volunteer_id,
        urgency=pooled.urgency or "normal",
        address=pooled.address,
        contact_phone_masked=pooled.contact_phone_masked,
        window_start=pooled.window.start if pooled.window else None,
        window_end=pooled.window.end if pooled.window else None,
    )
    return task, accept(task, volunteer_id, now, service_code)


CODE_DIGITS = 6


def new_service_code() -> str:
    """Six random digits, easy to read out over a doorstep or a phone."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def ensure_assignee(task: Task, volunteer_id: str) -> None:
    """Only the volunteer the task was offered to may act on it."""
    if task.volunteer_id != volunteer_id:
        raise NotYourTask("this task was not offered to you")


def _ensure_status(task: Task, allowed: set[TaskStatus], action: str) -> None:
    if task.status not in allowed:
        raise WrongTaskState(f"a task that is {task.status.value} cannot be {action}")


def accept(
    task: Task,
    volunteer_id: str,
    now: datetime,
    service_code: str | None = None,
    *,
    for_team: Team | None = None,
) -> list[contracts.EventData]:
    """The task is taken on by `volunteer_id`; the resident is given the code that confirms the visit."""
    # A volunteer accepts an offer made to them; a team's offer is accepted by its leader (`for_team`),
    # who names the member who serves (or themselves), and the task becomes that member's.
    if for_team is None:
        ensure_assignee(task, volunteer_id)
    _ensure_status(task, {TaskStatus.OFFERED}, "accepted")
    if for_team is not None and volunteer_id not in (for_team.leader_id, *for_team.member_ids):
        raise DomainError("name a member of the team (or yourself) to serve", field="volunteer_id")
    task.status = TaskStatus.ACCEPTED
    task.accepted_at = now
    task.volunteer_id = volunteer_id
    task.service_code = service_code
    return [
        contracts.TaskAccepted(
            task_id=task.id,
            request_id=task.request_id,
            volunteer_id=volunteer_id,
            team_id=task.team_id,
            township=task.township,
            category=task.category,
            accepted_at=now,
            service_code=service_code,
        )
    ]


def decline(
    task: Task, volunteer_id: str, reason: str, now: datetime, *, for_team: Team | None = None
) -> list[contracts.EventData]:
    """The volunteer (or, `for_team`, the team's leader) cannot do it; dispatch looks for someone else."""
    if for_team is None:
        ensure_assignee(task, volunteer_id)
    _ensure_status(task, {TaskStatus.OFFERED}, "declined")
    if not reason.strip():
        raise DomainError("say why you decline", field="reason")
    task.status = TaskStatus.DECLINED
    task.decline_reason = reason
    return [
        contracts.TaskDeclined(
            task_id=task.id,
            request_id=task.request_id,
            volunteer_id=volunteer_id,
            team_id=task.team_id,
            reason=reason,
            township=task.township,
            category=task.category,
            declined_at=now,
        )
    ]


def check_in(task: Task, volunteer_id: str, now: datetime) -> list[contracts.EventData]:
    """The volunteer arrived and the service starts."""
    ensure_assignee(task, volunteer_id)
    _ensure_status(task, {TaskStatus.ACCEPTED}, "checked in")
    task.status = TaskStatus.IN_SERVICE
    task.checked_in_at = now
    return [
        contracts.TaskCheckedIn(
            task_id=task.id,
            request_id=task.request_id,
            volunteer_id=volunteer_id,
            township=task.township,
            category=task.category,
            checked_in_at=now,
        )
    ]


CANCELLED_REASON = "the request was cancelled"
SUPERSEDED_REASON = "the request was offered to someone else"


def withdraw_offer(task: Task, reason: str = SUPERSEDED_REASON) -> bool:
    """Take back an offer nobody has answered; False when the task is past that."""
    if task.status != TaskStatus.OFFERED:
        return False
    task.status = TaskStatus.WITHDRAWN
    task.withdrawn_reason = reason
    return True


def withdraw_for_cancellation(task: Task) -> bool:
    """The resident cancelled: any open task ends, accepted or not; False when it had ended."""
    if task.status not in OPEN_STATUSES:
        return False
    task.status = TaskStatus.WITHDRAWN
    task.withdrawn_reason = CANCELLED_REASON
    return True
