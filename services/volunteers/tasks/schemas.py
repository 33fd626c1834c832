"""Bodies, queries and views of the task inbox's API; they double as its OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.common.contracts import TimeWindow
from services.common.paging import PageQuery
from services.common.schemas import StrictBody, View
from services.volunteers.tasks.domain import Task

TaskStatusName = Literal["offered", "accepted", "in_service", "completed", "declined", "withdrawn"]


class TaskPath(BaseModel):
    task_id: str = Field(min_length=1, max_length=64)


class TaskListQuery(PageQuery):
    status: TaskStatusName | None = None
    volunteer_id: str | None = Field(None, max_length=64, description="staff only: whose inbox")


class TeamInboxQuery(PageQuery):
    status: TaskStatusName | None = None


class DeclineBody(StrictBody):
    reason: str = Field(min_length=1, max_length=500)


class TeamAcceptBody(StrictBody):
    volunteer_id: str = Field(min_length=1, max_length=64, description="the member who serves")


class ParticipantView(View):
    volunteer_id: str
    hours: float


class TaskView(View):
    """A task as its volunteer sees it: the request, the offer, each step, hours (never the code)."""

    id: str
    request_id: str
    attempt: int
    level: str
    status: TaskStatusName
    resident_id: str
    category: str
    township: str
    village: str
    title: str
    description: str
    urgency: str
    address: str | None
    contact_phone_masked: str | None = Field(description="the resident's phone, masked by dispatch")
    window: TimeWindow | None
    offered_at: datetime
    deadline: datetime
    volunteer_id: str | None
    team_id: str | None
    accepted_at: datetime | None
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    completed_at: datetime | None
    decline_reason: str | None
    withdrawn_reason: str | None
    hours: float | None
    hours_capped: bool
    participants: list[ParticipantView]
    rating_score: int | None
    code_locked_until: datetime | None = Field(description="wrong codes locked code entry until then")


def task_view(task: Task) -> TaskView:
    """The task without the resident's code: the volunteer must hear it at the door, not read it here."""
    window = TimeWindow(start=task.window_start, end=task.window_end) if task.window_start else None
    return TaskView(
        id=task.id,
        request_id=task.request_id,
        attempt=task.attempt,
        level=task.level,
        status=task.status.value,
        resident_id=task.resident_id,
        category=task.category,
        township=task.township,
        village=task.village,
        title=task.title,
        description=task.description,
        urgency=task.urgency,
        address=task.address,
        contact_phone_masked=task.contact_phone_masked,
        window=window,
        offered_at=task.offered_at,
        deadline=task.deadline,
        volunteer_id=task.volunteer_id,
        team_id=task.team_id,
        accepted_at=task.accepted_at,
        checked_in_at=task.checked_in_at,
        checked_out_at=task.checked_out_at,
        completed_at=task.completed_at,
        decline_reason=task.decline_reason,
        withdrawn_reason=task.withdrawn_reason,
        hours=task.hours,
        hours_capped=task.hours_capped,
        participants=[ParticipantView.model_validate(p) for p in task.participants],
        rating_score=task.rating_score,
        code_locked_until=task.code_locked_until,
    )
