"""Rules of the accepting stage (接单): volunteers, teams, and the tasks offered to them.

Pure: no I/O. A task is created by an offer from dispatch; only the volunteer it was offered to
may accept, decline, check in or complete it, each only from the state before it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from services.common import contracts
from services.common.domain import DomainError, Missing, StateConflict


class NotYourTask(Missing):
    """The task was not offered to this volunteer (or their team)."""


class WrongTaskState(StateConflict):
    """The task is not in a state that allows this step."""


# --- volunteers ------------------------------------------------------------------------------------
@dataclass
class Volunteer:
    """A registered volunteer: where they serve, what they can do, how much at once."""

    id: str
    name: str
    township: str
    skills: list[str]
    registered_at: datetime
    phone: str | None = None
    station: str | None = None
    team_ids: list[str] = field(default_factory=list)
    active: bool = True
    capacity: int = 2
    latitude: float | None = None
    longitude: float | None = None
    profile_version: int = 1
    version: int = 1
    # When they can serve (local time): weekly slots {day, start, end}; dated exceptions.
    weekly_availability: list[dict[str, object]] = field(default_factory=list)
    availability_exceptions: list[dict[str, object]] = field(default_factory=list)


def snapshot(volunteer: Volunteer, *, registered: bool) -> contracts.VolunteerSnapshot:
    """The public profile others keep in their read-models (no phone: it stays here)."""
    event_class = contracts.VolunteerRegistered if registered else contracts.VolunteerUpdated
    return event_class(
        volunteer_id=volunteer.id,
        name=volunteer.name,
        township=volunteer.township,
        station=volunteer.station,
        skills=sorted(set(volunteer.skills)),
        team_ids=list(volunteer.team_ids),
        active=volunteer.active,
        capacity=volunteer.capacity,
        profile_version=volunteer.profile_version,
        latitude=volunteer.latitude,
        longitude=volunteer.longitude,
        weekly_availability=volunteer.weekly_availability,
        availability_exceptions=volunteer.availability_exceptions,
    )


def check_availability(volunteer: Volunteer) -> None:
    """Every slot and timed exception must end after it starts (times are "HH:MM", local)."""
    for slot in volunteer.weekly_availability:
        if str(slot["start"]) >= str(slot["end"]):
            raise DomainError("a weekly slot must end after it starts", field="weekly_availability")
    for exception in volunteer.availability_exceptions:
        start, end = exception.get("start"), exception.get("end")
        if (start is None) != (end is None) or (start is not None and str(start) >= str(end)):
            raise DomainError(
                "an exception has both start and end, end after start", field="availability_exceptions"
            )


def register(volunteer: Volunteer) -> list[contracts.EventData]:
    """A new volunteer announces their profile."""
    if not volunteer.skills:
        raise DomainError("a volunteer needs at least one skill", field="skills")
    check_availability(volunteer)
    return [snapshot(volunteer, registered=True)]


UPDATABLE = (
    "name",
    "phone",
    "township",
    "station",
    "skills",
    "team_ids",
    "active",
    "capacity",
    "latitude",
    "longitude",
    "weekly_availability",
    "availability_exceptions",
)


def update(volunteer: Volunteer, changes: dict[str, object]) -> list[contracts.EventData]:
    """Change a profile; every change is announced with the whole new profile."""
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise DomainError(f"cannot change {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    if not changes:
        return []
    for name, value in changes.items():
        setattr(volunteer, name, value)
    if not volunteer.skills:
        raise DomainError("a volunteer needs at least one skill", field="skills")
    check_availability(volunteer)
    volunteer.profile_version += 1
    return [snapshot(volunteer, registered=False)]


# --- teams and stations ----------------------------------------------------------------------------
TEAM_KINDS = ("county_corps", "standing", "sub_team", "lecture_brand")
STATION_KINDS = ("village", "community", "family_education")


@dataclass
class Team:
    """A volunteer team: the county corps, a standing team, a sub-team or a lecture brand team."""

    id: str
    name: str
    kind: str
    created_at: datetime
    parent_id: str | None = None
    townships: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    leader_id: str | None = None
    member_ids: list[str] = field(default_factory=list)
    active: bool = True
    profile_version: int = 1
    version: int = 1


def create_team(team: Team) -> list[contracts.EventData]:
    """A new team announces itself with its coverage."""
    if team.kind not in TEAM_KINDS:
        raise DomainError(f"kind must be one of {', '.join(TEAM_KINDS)}", field="kind")
    if team.kind != "county_corps" and team.parent_id is None:
        raise DomainError("every team but the county corps belongs to a parent team", field="parent_id")
    return [team_snapshot(team)]


def team_snapshot(team: Team) -> contracts.TeamUpdated:
    """The whole team, as others keep it."""
    return contracts.TeamUpdated(
        team_id=team.id,
        name=team.name,
        kind=team.kind,
        parent_id=team.parent_id,
        townships=team.townships,
        categories=team.categories,
        leader_id=team.leader_id,
        member_ids=team.member_ids,
        active=team.active,
        profile_version=team.profile_version,
    )


# --- tasks -----------------------------------------------------------------------------------------
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


def _ensure_assignee(task: Task, volunteer_id: str) -> None:
    if task.volunteer_id != volunteer_id:
        raise NotYourTask("this task was not offered to you")


def _ensure_status(task: Task, allowed: set[TaskStatus], action: str) -> None:
    if task.status not in allowed:
        raise WrongTaskState(f"a task that is {task.status.value} cannot be {action}")


def accept(
    task: Task, volunteer_id: str, now: datetime, service_code: str | None = None
) -> list[contracts.EventData]:
    """The volunteer takes the task on; the resident is given the code that confirms the visit."""
    _ensure_assignee(task, volunteer_id)
    _ensure_status(task, {TaskStatus.OFFERED}, "accepted")
    task.status = TaskStatus.ACCEPTED
    task.accepted_at = now
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


def decline(task: Task, volunteer_id: str, reason: str, now: datetime) -> list[contracts.EventData]:
    """The volunteer cannot do it; dispatch looks for someone else."""
    _ensure_assignee(task, volunteer_id)
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
    _ensure_assignee(task, volunteer_id)
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
