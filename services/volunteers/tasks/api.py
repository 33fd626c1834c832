"""HTTP entrypoints of the accepting stage: volunteers, teams, stations and the task inbox."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import g
from flask_openapi3 import APIBlueprint, Tag

from services.common.auth import STAFF, Principal, Role, mask_phone, require
from services.common.errors import InvalidInput, NotFound
from services.common.schemas import ERROR_RESPONSES
from services.volunteers.hours import usecases as hours_service
from services.volunteers.hours.api import HOURS_BLUEPRINTS, CheckOutBody, CodeBody
from services.volunteers.organisation.api import ORGANISATION_BLUEPRINTS
from services.volunteers.pairing.api import PAIRING_BLUEPRINTS
from services.volunteers.tasks import domain, usecases
from services.volunteers.tasks.schemas import (
    DeclineBody,
    StationCreate,
    StationListQuery,
    TaskListQuery,
    TaskPath,
    TeamCreate,
    TeamListQuery,
    VolunteerCreate,
    VolunteerListQuery,
    VolunteerPatch,
    VolunteerPath,
)

COMMON = {"abp_security": [{"bearer": []}], "abp_responses": ERROR_RESPONSES}
volunteers_api = APIBlueprint(
    "volunteers", __name__, url_prefix="/api/v1/volunteers", abp_tags=[Tag(name="volunteers")], **COMMON
)
teams_api = APIBlueprint(
    "teams", __name__, url_prefix="/api/v1/teams", abp_tags=[Tag(name="teams")], **COMMON
)
stations_api = APIBlueprint(
    "stations", __name__, url_prefix="/api/v1/stations", abp_tags=[Tag(name="stations")], **COMMON
)
tasks_api = APIBlueprint(
    "tasks", __name__, url_prefix="/api/v1/tasks", abp_tags=[Tag(name="tasks", description="接单")], **COMMON
)
ALL_BLUEPRINTS = (
    volunteers_api,
    teams_api,
    stations_api,
    tasks_api,
    *HOURS_BLUEPRINTS,
    *ORGANISATION_BLUEPRINTS,
    *PAIRING_BLUEPRINTS,
)


# --- volunteers ------------------------------------------------------------------------------------
@volunteers_api.post("")
def register_volunteer(body: VolunteerCreate) -> tuple[dict[str, Any], int]:
    """Register a volunteer (admin)."""
    principal = require(Role.ADMIN)
    volunteer = usecases.register_volunteer(body.model_dump(), causation_id=g.request_id)
    return present_volunteer(volunteer, principal), 201


@volunteers_api.get("")
def list_volunteers(query: VolunteerListQuery) -> dict[str, Any]:
    """Volunteers, filtered by township, skill and whether active (staff)."""
    principal = require(*STAFF)
    found = usecases.list_volunteers(
        township=query.township,
        skill=query.skill,
        active=query.active,
        limit=query.limit,
        before=query.before,
    )
    return _page([present_volunteer(v, principal) for v in found], query.limit)


@volunteers_api.get("/<volunteer_id>")
def get_volunteer(path: VolunteerPath) -> dict[str, Any]:
    """A volunteer's profile (themselves, or staff)."""
    principal = _self_or_staff(path.volunteer_id)
    return present_volunteer(usecases.get_volunteer(path.volunteer_id), principal)


@volunteers_api.patch("/<volunteer_id>")
def update_volunteer(path: VolunteerPath, body: VolunteerPatch) -> dict[str, Any]:
    """Change a volunteer's profile (admin)."""
    principal = require(Role.ADMIN)
    changes = body.model_dump(exclude_unset=True)
    volunteer = usecases.update_volunteer(path.volunteer_id, changes, causation_id=g.request_id)
    return present_volunteer(volunteer, principal)


@volunteers_api.get("/<volunteer_id>/hours")
def volunteer_hours(path: VolunteerPath) -> dict[str, Any]:
    """A volunteer's hours ledger (themselves, or staff)."""
    _self_or_staff(path.volunteer_id)
    usecases.get_volunteer(path.volunteer_id)
    return hours_service.ledger(path.volunteer_id)


# --- teams and stations ----------------------------------------------------------------------------
@teams_api.post("")
def create_team(body: TeamCreate) -> tuple[dict[str, Any], int]:
    """Create a team (admin)."""
    require(Role.ADMIN)
    team = usecases.create_team(body.model_dump(), causation_id=g.request_id)
    return _without_internals(asdict(team)), 201


@teams_api.get("")
def list_teams(query: TeamListQuery) -> dict[str, Any]:
    """Teams, by kind and township (anyone signed in)."""
    require()
    found = usecases.list_teams(
        kind=query.kind, township=query.township, limit=query.limit, before=query.before
    )
    return _page([_without_internals(asdict(team)) for team in found], query.limit)


@stations_api.post("")
def create_station(body: StationCreate) -> tuple[dict[str, Any], int]:
    """Create a station (admin)."""
    require(Role.ADMIN)
    station = usecases.create_station(body.model_dump())
    return _station_view(station), 201


@stations_api.get("")
def list_stations(query: StationListQuery) -> dict[str, Any]:
    """Stations, by township and kind (anyone signed in)."""
    require()
    found = usecases.list_stations(
        township=query.township, kind=query.kind, limit=query.limit, before=query.before
    )
    return _page([_station_view(station) for station in found], query.limit)


# --- tasks -----------------------------------------------------------------------------------------
@tasks_api.get("")
def list_tasks(query: TaskListQuery) -> dict[str, Any]:
    """The caller's inbox of tasks (staff may name a volunteer)."""
    principal = require(Role.VOLUNTEER, *STAFF)
    volunteer_id = principal.sub
    if principal.is_staff:
        if not query.volunteer_id:
            raise InvalidInput("staff must name the volunteer whose tasks to list", field="volunteer_id")
        volunteer_id = query.volunteer_id
    found = usecases.list_tasks(
        volunteer_id=volunteer_id, status=query.status, limit=query.limit, before=query.before
    )
    return _page([present_task(task) for task in found], query.limit)


@tasks_api.get("/<task_id>")
def get_task(path: TaskPath) -> dict[str, Any]:
    """One task (its volunteer, or staff)."""
    principal = require(Role.VOLUNTEER, *STAFF)
    task = usecases.get_task(path.task_id)
    if not principal.is_staff and task.volunteer_id != principal.sub:
        raise NotFound("no task with that id in your inbox")
    return present_task(task)


@tasks_api.post("/<task_id>/accept")
def accept_task(path: TaskPath) -> dict[str, Any]:
    """Accept an offered task (接单)."""
    principal = require(Role.VOLUNTEER)
    return present_task(hours_service.accept_task(path.task_id, principal.sub, g.request_id))


@tasks_api.post("/<task_id>/decline")
def decline_task(path: TaskPath, body: DeclineBody) -> dict[str, Any]:
    """Decline an offered task, saying why; dispatch offers it to someone else."""
    principal = require(Role.VOLUNTEER)
    task = usecases.act_on_task(path.task_id, principal.sub, domain.decline, g.request_id, reason=body.reason)
    return present_task(task)


@tasks_api.post("/<task_id>/check-in")
def check_in_task(path: TaskPath, body: CodeBody) -> dict[str, Any]:
    """Arrive at the resident's and start the service; the resident reads out their code."""
    principal = require(Role.VOLUNTEER)
    return present_task(hours_service.check_in(path.task_id, principal.sub, body.code, g.request_id))


@tasks_api.post("/<task_id>/complete")
def complete_task(path: TaskPath, body: CheckOutBody) -> dict[str, Any]:
    """Finish the service: the same as check-out (hours come from the coded check-in and check-out)."""
    principal = require(Role.VOLUNTEER)
    task = hours_service.check_out(path.task_id, principal.sub, body.code, body.participant_ids, g.request_id)
    return present_task(task)


# --- views -----------------------------------------------------------------------------------------
def _self_or_staff(volunteer_id: str) -> Principal:
    principal = require()
    if principal.sub != volunteer_id and not principal.is_staff:
        raise NotFound("no volunteer with that id")
    return principal


def present_volunteer(volunteer: domain.Volunteer, viewer: Principal) -> dict[str, Any]:
    """A volunteer's profile; the phone in full only for themselves and staff."""
    view = _without_internals(asdict(volunteer))
    if viewer.sub != volunteer.id and not viewer.is_staff:
        view["phone"] = mask_phone(volunteer.phone)
    return view


def present_task(task: domain.Task) -> dict[str, Any]:
    """A task as its volunteer sees it (the resident's phone arrives masked from dispatch)."""
    view = _without_internals(asdict(task))
    # The code is the resident's to give; the volunteer must not read it off their own screen.
    for secret in ("service_code", "code_attempts"):
        view.pop(secret, None)
    view["status"] = task.status.value
    view["window"] = {"start": task.window_start, "end": task.window_end} if task.window_start else None
    view.pop("window_start")
    view.pop("window_end")
    return view


def _station_view(station: dict[str, Any]) -> dict[str, Any]:
    return {"id": station["_id"], **{key: station[key] for key in ("code", "name", "township", "kind")}}


def _without_internals(view: dict[str, Any]) -> dict[str, Any]:
    view.pop("version", None)
    return view


def _page(items: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    return {"items": items, "next_before": items[-1]["id"] if len(items) == limit else None}
