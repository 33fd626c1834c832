"""Offers to a team: the team leader sees them, accepts naming who serves, or declines for the team."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import g
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field
from pymongo import DESCENDING

from services.common import contracts
from services.common.auth import Role, require
from services.common.domain import DomainError
from services.common.events import make_event
from services.common.ids import utcnow
from services.common.schemas import ERROR_RESPONSES, StrictBody
from services.common.store import from_state, holding, to_state
from services.volunteers.hours import domain as hours
from services.volunteers.tasks.domain import Task, TaskStatus, WrongTaskState
from services.volunteers.tasks.models import TaskDocument, TeamDocument, tasks_store, teams_store
from services.volunteers.tasks.usecases import NotFoundHere, get_task


# --- rules (pure) ----------------------------------------------------------------------------------
def team_accept(
    task: Task, team: dict[str, Any], leader_id: str, server_id: str, now: datetime, service_code: str
) -> list:
    """The leader takes the team's offer and names the member who serves; the task becomes theirs."""
    if task.status != TaskStatus.OFFERED:
        raise WrongTaskState(f"a task that is {task.status.value} cannot be accepted")
    if server_id != leader_id and server_id not in team.get("member_ids", []):
        raise DomainError("name a member of the team (or yourself) to serve", field="volunteer_id")
    task.status = TaskStatus.ACCEPTED
    task.accepted_at = now
    task.volunteer_id = server_id
    task.service_code = service_code
    return [
        contracts.TaskAccepted(
            task_id=task.id,
            request_id=task.request_id,
            volunteer_id=server_id,
            team_id=task.team_id,
            township=task.township,
            category=task.category,
            accepted_at=now,
            service_code=service_code,
        )
    ]


def team_decline(task: Task, leader_id: str, reason: str, now: datetime) -> list:
    """The leader says the team cannot take it; dispatch goes on down the cascade."""
    if task.status != TaskStatus.OFFERED:
        raise WrongTaskState(f"a task that is {task.status.value} cannot be declined")
    task.status = TaskStatus.DECLINED
    task.decline_reason = reason
    return [
        contracts.TaskDeclined(
            task_id=task.id,
            request_id=task.request_id,
            volunteer_id=leader_id,
            team_id=task.team_id,
            reason=reason,
            township=task.township,
            category=task.category,
            declined_at=now,
        )
    ]


# --- use cases -------------------------------------------------------------------------------------
def led_team_ids(leader_id: str) -> list[str]:
    """Teams this volunteer leads."""
    return [d["_id"] for d in TeamDocument._get_collection().find({"leader_id": leader_id}, {"_id": 1})]


def team_inbox(leader_id: str, status: str | None, limit: int) -> list[Task]:
    """Tasks offered to the teams this volunteer leads, newest first."""
    query: dict[str, Any] = {"team_id": {"$in": led_team_ids(leader_id)}}
    if status:
        query["status"] = status
    cursor = (
        TaskDocument._get_collection().find(query, {"outbox": 0}).sort([("_id", DESCENDING)]).limit(limit)
    )
    return [from_state(Task, d, status=TaskStatus) for d in cursor]


@holding(tasks_store, lambda task_id, *_args, **_kwargs: task_id)
def act_as_leader(
    task_id: str, leader_id: str, causation_id: str, *, server_id: str | None, reason: str | None
) -> Task:
    """Accept (naming who serves) or decline a team's offer, as its leader."""
    task = get_task(task_id)
    team = teams_store.get(task.team_id) if task.team_id else None
    if team is None or team.get("leader_id") != leader_id:
        raise NotFoundHere("no task with that id for a team you lead")
    now = utcnow()
    if server_id is not None:
        from services.volunteers.pool.usecases import reserve_for_accept

        if task.status == TaskStatus.OFFERED:
            reserve_for_accept(task)
        events = team_accept(task, team, leader_id, server_id, now, hours.new_service_code())
    else:
        events = team_decline(task, leader_id, reason or "", now)
    envelopes = [
        make_event(e, producer="volunteers", correlation_id=task.request_id, causation_id=causation_id)
        for e in events
    ]
    tasks_store.save(task.id, task.version, to_state(task), envelopes)
    return task


# --- HTTP ------------------------------------------------------------------------------------------
class TeamInboxQuery(BaseModel):
    status: str | None = Field(None, max_length=20)
    limit: int = Field(20, ge=1, le=100)


class TaskPath(BaseModel):
    task_id: str = Field(min_length=1, max_length=64)


class TeamAcceptBody(StrictBody):
    volunteer_id: str = Field(min_length=1, max_length=64, description="the member who serves")


class TeamDeclineBody(StrictBody):
    reason: str = Field(min_length=1, max_length=500)


team_tasks_api = APIBlueprint(
    "team_tasks",
    __name__,
    url_prefix="/api/v1/tasks/team",
    abp_tags=[Tag(name="tasks", description="接单")],
    abp_security=[{"bearer": []}],
    abp_responses=ERROR_RESPONSES,
)


@team_tasks_api.get("")
def list_team_tasks(query: TeamInboxQuery) -> dict[str, Any]:
    """The inbox of the teams the caller leads."""
    principal = require(Role.VOLUNTEER)
    from services.volunteers.tasks.api import present_task

    return {"items": [present_task(t) for t in team_inbox(principal.sub, query.status, query.limit)]}


@team_tasks_api.post("/<task_id>/accept")
def accept_for_team(path: TaskPath, body: TeamAcceptBody) -> dict[str, Any]:
    """Accept a team's offer as its leader, naming the member who serves."""
    principal = require(Role.VOLUNTEER)
    from services.volunteers.tasks.api import present_task

    task = act_as_leader(path.task_id, principal.sub, g.request_id, server_id=body.volunteer_id, reason=None)
    return present_task(task)


@team_tasks_api.post("/<task_id>/decline")
def decline_for_team(path: TaskPath, body: TeamDeclineBody) -> dict[str, Any]:
    """Decline a team's offer as its leader."""
    principal = require(Role.VOLUNTEER)
    from services.volunteers.tasks.api import present_task

    task = act_as_leader(path.task_id, principal.sub, g.request_id, server_id=None, reason=body.reason)
    return present_task(task)
