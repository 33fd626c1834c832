"""The accepting stage's use cases: load, let the domain decide, save state and events together."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import mongoengine
from pymongo import DESCENDING
from pymongo.errors import DuplicateKeyError

from services.common import contracts
from services.common.domain import Missing
from services.common.events import Envelope, make_event
from services.common.ids import new_id, utcnow
from services.common.store import AlreadyExists, from_state, holding, to_state
from services.volunteers.tasks import domain
from services.volunteers.tasks.domain import Task, TaskStatus, Team, Volunteer
from services.volunteers.tasks.models import (
    CancelledRequest,
    HoursEntry,
    StationDocument,
    TaskDocument,
    TeamDocument,
    VolunteerDocument,
    tasks_store,
    teams_store,
    volunteers_store,
)

PRODUCER = "volunteers"


class NotFoundHere(Missing):
    """No such volunteer, team or task is stored here."""


def _envelopes(
    events: list[contracts.EventData], correlation_id: str, causation_id: str | None
) -> list[dict]:
    return [
        make_event(e, producer=PRODUCER, correlation_id=correlation_id, causation_id=causation_id)
        for e in events
    ]


# --- volunteers ------------------------------------------------------------------------------------
def register_volunteer(fields: dict[str, Any], causation_id: str) -> Volunteer:
    """Store a new volunteer and announce the profile."""
    volunteer = Volunteer(id=new_id(), registered_at=utcnow(), **fields)
    events = domain.register(volunteer)
    volunteers_store.insert(volunteer.id, to_state(volunteer), _envelopes(events, volunteer.id, causation_id))
    return volunteer


def get_volunteer(volunteer_id: str) -> Volunteer:
    """A stored volunteer."""
    document = volunteers_store.get(volunteer_id)
    if document is None:
        raise NotFoundHere("no volunteer with that id")
    return from_state(Volunteer, document)


@holding(volunteers_store, lambda volunteer_id, *_args, **_kwargs: volunteer_id)
def update_volunteer(volunteer_id: str, changes: dict[str, Any], causation_id: str) -> Volunteer:
    """Change a profile and announce it."""
    volunteer = get_volunteer(volunteer_id)
    events = domain.update(volunteer, changes)
    if events:
        volunteers_store.save(
            volunteer.id,
            volunteer.version,
            to_state(volunteer),
            _envelopes(events, volunteer.id, causation_id),
        )
    return volunteer


def list_volunteers(
    *, township: str | None, skill: str | None, active: bool | None, limit: int, before: str | None
) -> list[Volunteer]:
    """Volunteers, newest first, filtered."""
    query: dict[str, Any] = {}
    if township:
        query["township"] = township
    if skill:
        query["skills"] = skill
    if active is not None:
        query["active"] = active
    if before:
        query["_id"] = {"$lt": before}
    cursor = (
        VolunteerDocument._get_collection()
        .find(query, {"outbox": 0})
        .sort([("_id", DESCENDING)])
        .limit(limit)
    )
    return [from_state(Volunteer, document) for document in cursor]


def volunteer_hours(volunteer_id: str) -> dict[str, Any]:
    """A volunteer's hours ledger and total."""
    entries = list(
        HoursEntry._get_collection().find({"volunteer_id": volunteer_id}).sort([("completed_at", -1)])
    )
    return {
        "volunteer_id": volunteer_id,
        "total_hours": round(sum(entry["hours"] for entry in entries), 2),
        "tasks": len(entries),
        "entries": [
            {
                key: entry.get(key)
                for key in ("task_id", "request_id", "hours", "township", "category", "completed_at")
            }
            for entry in entries
        ],
    }


# --- teams and stations ----------------------------------------------------------------------------
def create_team(fields: dict[str, Any], causation_id: str) -> Team:
    """Store a new team and announce it."""
    if fields.get("parent_id") and teams_store.get(fields["parent_id"]) is None:
        raise domain.DomainError("no team with that id", field="parent_id")
    team = Team(id=new_id(), created_at=utcnow(), **fields)
    events = domain.create_team(team)
    teams_store.insert(team.id, to_state(team), _envelopes(events, team.id, causation_id))
    return team


def list_teams(*, kind: str | None, township: str | None, limit: int, before: str | None) -> list[Team]:
    """Teams, newest first."""
    query: dict[str, Any] = {}
    if kind:
        query["kind"] = kind
    if township:
        query["townships"] = township
    if before:
        query["_id"] = {"$lt": before}
    cursor = (
        TeamDocument._get_collection().find(query, {"outbox": 0}).sort([("_id", DESCENDING)]).limit(limit)
    )
    return [from_state(Team, document) for document in cursor]


def create_station(fields: dict[str, Any]) -> dict[str, Any]:
    """Store a station; its code is unique."""
    document = {"_id": new_id(), **fields}
    try:
        StationDocument._get_collection().insert_one(document)
    except DuplicateKeyError:
        raise domain.DomainError("a station with this code exists", field="code") from None
    return document


def list_stations(
    *, township: str | None, kind: str | None, limit: int, before: str | None
) -> list[dict[str, Any]]:
    """Stations, filtered."""
    query: dict[str, Any] = {}
    if township:
        query["township"] = township
    if kind:
        query["kind"] = kind
    if before:
        query["_id"] = {"$lt": before}
    return list(StationDocument._get_collection().find(query).sort([("_id", DESCENDING)]).limit(limit))


# --- tasks -----------------------------------------------------------------------------------------
def get_task(task_id: str) -> Task:
    """A stored task."""
    document = tasks_store.get(task_id)
    if document is None:
        raise NotFoundHere("no task with that id")
    return from_state(Task, document, status=TaskStatus)


def list_tasks(*, volunteer_id: str, status: str | None, limit: int, before: str | None) -> list[Task]:
    """A volunteer's inbox, newest offer first."""
    query: dict[str, Any] = {"volunteer_id": volunteer_id}
    if status:
        query["status"] = status
    if before:
        query["_id"] = {"$lt": before}
    cursor = (
        TaskDocument._get_collection().find(query, {"outbox": 0}).sort([("_id", DESCENDING)]).limit(limit)
    )
    return [from_state(Task, document, status=TaskStatus) for document in cursor]


TaskAction = Callable[..., list[contracts.EventData]]


@holding(tasks_store, lambda task_id, *_args, **_kwargs: task_id)
def act_on_task(
    task_id: str, volunteer_id: str, action: TaskAction, causation_id: str, **arguments: Any
) -> Task:
    """Apply a volunteer's step (accept, decline, check in, complete) to their task."""
    task = get_task(task_id)
    if task.volunteer_id != volunteer_id:
        raise NotFoundHere("no task with that id in your inbox")
    if action is domain.accept and task.status == TaskStatus.OFFERED:
        from services.volunteers.pool.usecases import reserve_for_accept

        reserve_for_accept(task)  # a request that went on to the claim pool has one winner only
    events = action(task, volunteer_id, now=utcnow(), **arguments)
    tasks_store.save(task.id, task.version, to_state(task), _envelopes(events, task.request_id, causation_id))
    if task.status == TaskStatus.DECLINED:
        from services.volunteers.pool.usecases import release

        release(task)  # a declined hand-picked offer of a pooled request opens it again
    return task


def receive_offer(envelope: Envelope, offer: contracts.TaskOffered) -> None:
    """Put an offer in the volunteer's inbox and take back older offers of the same request."""
    siblings = list(TaskDocument._get_collection().find({"request_id": offer.request_id}, {"outbox": 0}))
    superseded = any(doc["attempt"] > offer.attempt for doc in siblings if doc["_id"] != offer.task_id)
    cancelled = CancelledRequest.objects(id=offer.request_id).count() > 0
    from services.volunteers.pool.usecases import reserve_for_offer

    # A hand-picked offer of a pooled request must win the pool's single claim, or it is born withdrawn.
    superseded = superseded or not reserve_for_offer(offer)
    task = domain.task_from_offer(offer, superseded=superseded, request_cancelled=cancelled)
    with contextlib.suppress(AlreadyExists):  # a redelivery: the task is there already
        tasks_store.insert(task.id, to_state(task), [])
    for doc in siblings:
        if doc["_id"] != offer.task_id and doc["attempt"] < offer.attempt:
            _withdraw(doc["_id"], domain.withdraw_offer)


@holding(tasks_store, lambda task_id, *_args: task_id)
def _withdraw(task_id: str, how: Callable[[Task], bool]) -> None:
    task = get_task(task_id)
    if how(task):
        tasks_store.save(task.id, task.version, to_state(task), [])


def on_request_cancelled(envelope: Envelope, data: contracts.RequestCancelled) -> None:
    """Remember the cancellation and take back every open task of the request."""
    with contextlib.suppress(DuplicateKeyError):
        CancelledRequest._get_collection().insert_one(
            {"_id": data.request_id, "cancelled_at": data.cancelled_at}
        )
    for doc in TaskDocument._get_collection().find({"request_id": data.request_id}, {"_id": 1}):
        _withdraw(doc["_id"], domain.withdraw_for_cancellation)


def on_request_rated(envelope: Envelope, data: contracts.RequestRated) -> None:
    """Show the resident's score on the completed task."""
    completed = TaskDocument._get_collection().find(
        {"request_id": data.request_id, "status": TaskStatus.COMPLETED.value}, {"_id": 1}
    )
    for document in completed:
        _set_rating(document["_id"], data.score)


@holding(tasks_store, lambda task_id, *_args: task_id)
def _set_rating(task_id: str, score: int) -> None:
    task = get_task(task_id)
    tasks_store.save(task.id, task.version, {"rating_score": score}, [])


def on_task_completed(envelope: Envelope, data: contracts.TaskCompleted) -> None:
    """Credit every participant's hours to the ledger (once per task and volunteer)."""
    for participant in data.participants:
        entry = {
            "_id": f"{data.task_id}:{participant.volunteer_id}",
            "volunteer_id": participant.volunteer_id,
            "task_id": data.task_id,
            "request_id": data.request_id,
            "hours": participant.hours,
            "township": data.township,
            "category": data.category,
            "completed_at": data.completed_at,
        }
        with contextlib.suppress(DuplicateKeyError):  # credited already
            HoursEntry._get_collection().insert_one(entry)


OTHER_DOCUMENTS: tuple[type[mongoengine.Document], ...] = (StationDocument, HoursEntry, CancelledRequest)
