"""HTTP entrypoints of the task inbox (接单): a volunteer's tasks, a team leader's, and pool claims."""

from __future__ import annotations

from flask import g
from flask_openapi3 import APIBlueprint, Tag

from services.common.auth import STAFF, Role, require
from services.common.errors import InvalidInput, NotFound
from services.common.paging import Page, page_of
from services.common.schemas import ERROR_RESPONSES, Problem
from services.volunteers.people import usecases as people
from services.volunteers.pool.api import POOL_TAG
from services.volunteers.pool.schemas import PoolPath
from services.volunteers.tasks import usecases
from services.volunteers.tasks.schemas import (
    DeclineBody,
    TaskListQuery,
    TaskPath,
    TaskView,
    TeamAcceptBody,
    TeamInboxQuery,
    task_view,
)

COMMON = {"abp_security": [{"bearer": []}], "abp_responses": ERROR_RESPONSES}
tasks_api = APIBlueprint(
    "tasks", __name__, url_prefix="/api/v1/tasks", abp_tags=[Tag(name="tasks", description="接单")], **COMMON
)
pool_claims_api = APIBlueprint(
    "pool_claims", __name__, url_prefix="/api/v1/pool", abp_tags=[POOL_TAG], **COMMON
)
# Steps a task refuses in its current state, or that lose the race for a pooled request, are 409s.
CONFLICT = {409: Problem}


# --- a volunteer's inbox ---------------------------------------------------------------------------
@tasks_api.get("", responses={200: Page[TaskView]})
def list_tasks(query: TaskListQuery) -> Page[TaskView]:
    """The caller's inbox of tasks (staff may name a volunteer)."""
    principal = require(Role.VOLUNTEER, *STAFF)
    volunteer_id = principal.sub
    if principal.is_staff:
        if not query.volunteer_id:
            raise InvalidInput("staff must name the volunteer whose tasks to list", field="volunteer_id")
        named = people.find_volunteer(query.volunteer_id)
        if named is None or not principal.covers_township(named.township):
            raise NotFound("no volunteer with that id")  # township staff see their township's inboxes
        volunteer_id = named.id
    found = usecases.list_tasks(
        volunteer_id=volunteer_id, status=query.status, limit=query.limit, before=query.before
    )
    return Page[TaskView](**page_of([task_view(task) for task in found], query.limit, key=lambda t: t.id))


@tasks_api.get("/<task_id>", responses={200: TaskView})
def get_task(path: TaskPath) -> TaskView:
    """One task (its volunteer, or staff covering its township)."""
    principal = require(Role.VOLUNTEER, *STAFF)
    task = usecases.get_task(path.task_id)
    if task.volunteer_id != principal.sub and not principal.covers_township(task.township):
        raise NotFound("no task with that id in your inbox")
    return task_view(task)


@tasks_api.post("/<task_id>/accept", responses={200: TaskView, **CONFLICT})
def accept_task(path: TaskPath) -> TaskView:
    """Accept an offered task (接单)."""
    principal = require(Role.VOLUNTEER)
    return task_view(usecases.accept_task(path.task_id, principal.sub, g.request_id))


@tasks_api.post("/<task_id>/decline", responses={200: TaskView, **CONFLICT})
def decline_task(path: TaskPath, body: DeclineBody) -> TaskView:
    """Decline an offered task, saying why; dispatch offers it to someone else."""
    principal = require(Role.VOLUNTEER)
    return task_view(usecases.decline_task(path.task_id, principal.sub, body.reason, g.request_id))


# --- a team leader's inbox -------------------------------------------------------------------------
@tasks_api.get("/team", responses={200: Page[TaskView]})
def list_team_tasks(query: TeamInboxQuery) -> Page[TaskView]:
    """The inbox of the teams the caller leads."""
    principal = require(Role.VOLUNTEER)
    found = usecases.team_inbox(principal.sub, query.status, query.limit, query.before)
    return Page[TaskView](**page_of([task_view(task) for task in found], query.limit, key=lambda t: t.id))


@tasks_api.post("/team/<task_id>/accept", responses={200: TaskView, **CONFLICT})
def accept_for_team(path: TaskPath, body: TeamAcceptBody) -> TaskView:
    """Accept a team's offer as its leader, naming the member who serves."""
    principal = require(Role.VOLUNTEER)
    return task_view(usecases.accept_for_team(path.task_id, principal.sub, body.volunteer_id, g.request_id))


@tasks_api.post("/team/<task_id>/decline", responses={200: TaskView, **CONFLICT})
def decline_for_team(path: TaskPath, body: DeclineBody) -> TaskView:
    """Decline a team's offer as its leader."""
    principal = require(Role.VOLUNTEER)
    return task_view(usecases.decline_for_team(path.task_id, principal.sub, body.reason, g.request_id))


# --- claims from the pool --------------------------------------------------------------------------
@pool_claims_api.post("/<request_id>/claim", responses={201: TaskView, **CONFLICT})
def claim_request(path: PoolPath) -> tuple[TaskView, int]:
    """Claim an open request; the first claim wins and becomes an accepted task in the caller's inbox."""
    principal = require(Role.VOLUNTEER)
    return task_view(usecases.claim_from_pool(path.request_id, principal.sub, g.request_id)), 201
