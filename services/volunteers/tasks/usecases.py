"""Use cases of the task inbox: load, let the rules decide, save the task and its events together."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from services.common import contracts
from services.common.domain import Missing
from services.common.events import Envelope, envelopes
from services.common.ids import new_id, utcnow
from services.common.paging import newest_first
from services.common.store import AlreadyExists, holding
from services.volunteers import SERVICE
from services.volunteers.organisation import usecases as organisation
from services.volunteers.organisation.domain import Team
from services.volunteers.pool import usecases as pool
from services.volunteers.tasks import domain
from services.volunteers.tasks.domain import Task, TaskStatus
from services.volunteers.tasks.models import TaskDocument, task_from_document, task_to_document, tasks_store


class UnknownTask(Missing):
    """No task with that id is stored here (or none the caller may act on)."""


def _by_task_id(task_id: str, *_args: Any, **_kwargs: Any) -> str:
    return task_id


def save(task: Task, events: list[contracts.EventData], causation_id: str | None) -> None:
    """Save a changed task with the events its step caused, correlated by its request."""
    tasks_store.save(
        task.id,
        task.version,
        task_to_document(task),
        envelopes(events, producer=SERVICE, correlation_id=task.request_id, causation_id=causation_id),
    )


# --- reading ---------------------------------------------------------------------------------------
def get_task(task_id: str) -> Task:
    """A stored task."""
    document = tasks_store.get(task_id)
    if document is None:
        raise UnknownTask("no task with that id")
    return task_from_document(document)


def assigned_task(task_id: str, volunteer_id: str) -> Task:
    """A task in this volunteer's inbox; to anyone else it does not exist."""
    task = get_task(task_id)
    if task.volunteer_id != volunteer_id:
        raise UnknownTask("no task with that id in your inbox")
    return task


def list_tasks(*, volunteer_id: str, status: str | None, limit: int, before: str | None) -> list[Task]:
    """A volunteer's inbox, newest offer first."""
    query: dict[str, Any] = {"volunteer_id": volunteer_id}
    if status:
        query["status"] = status
    return _tasks_where(query, limit=limit, before=before)


def team_inbox(leader_id: str, status: str | None, limit: int, before: str | None) -> list[Task]:
    """Tasks offered to the teams this volunteer leads, newest first."""
    query: dict[str, Any] = {"team_id": {"$in": organisation.teams_led_by(leader_id)}}
    if status:
        query["status"] = status
    return _tasks_where(query, limit=limit, before=before)


def _tasks_where(query: dict[str, Any], *, limit: int, before: str | None) -> list[Task]:
    found = newest_first(
        TaskDocument._get_collection(), query, limit=limit, before=before, projection={"outbox": 0}
    )
    return [task_from_document(document) for document in found]


# --- a volunteer's steps ---------------------------------------------------------------------------
@holding(tasks_store, _by_task_id)
def accept_task(task_id: str, volunteer_id: str, causation_id: str) -> Task:
    """Accept an offered task; a fresh service code goes to the resident in `task.accepted`."""
    task = assigned_task(task_id, volunteer_id)
    if task.status == TaskStatus.OFFERED:
        # A request that went on to the claim pool has one winner only.
        pool.reserve_for_accept(task.request_id, task.volunteer_id, task.id)
    events = domain.accept(task, volunteer_id, utcnow(), domain.new_service_code())
    save(task, events, causation_id)
    return task


@holding(tasks_store, _by_task_id)
def decline_task(task_id: str, volunteer_id: str, reason: str, causation_id: str) -> Task:
    """Decline an offered task, saying why; a declined hand-picked offer opens a pooled request again."""
    task = assigned_task(task_id, volunteer_id)
    events = domain.decline(task, volunteer_id, reason, utcnow())
    save(task, events, causation_id)
    pool.release(task.request_id, task.id)
    return task


# --- a team leader's steps -------------------------------------------------------------------------
@holding(tasks_store, _by_task_id)
def accept_for_team(task_id: str, leader_id: str, server_id: str, causation_id: str) -> Task:
    """Accept a team's offer as its leader, naming the member who serves."""
    task, team = _led_task(task_id, leader_id)
    if task.status == TaskStatus.OFFERED:
        pool.reserve_for_accept(task.request_id, task.volunteer_id, task.id)
    events = domain.accept(task, server_id, utcnow(), domain.new_service_code(), for_team=team)
    save(task, events, causation_id)
    return task


@holding(tasks_store, _by_task_id)
def decline_for_team(task_id: str, leader_id: str, reason: str, causation_id: str) -> Task:
    """Decline a team's offer as its leader; dispatch goes on down the cascade."""
    task, team = _led_task(task_id, leader_id)
    events = domain.decline(task, leader_id, reason, utcnow(), for_team=team)
    save(task, events, causation_id)
    return task


def _led_task(task_id: str, leader_id: str) -> tuple[Task, Team]:
    task = get_task(task_id)
    team = organisation.find_team(task.team_id) if task.team_id else None
    if team is None or team.leader_id != leader_id:
        raise UnknownTask("no task with that id for a team you lead")
    return task, team


# --- the pool --------------------------------------------------------------------------------------
def claim_from_pool(request_id: str, volunteer_id: str, causation_id: str) -> Task:
    """Claim a pooled request: the first claim wins and becomes an accepted task in the caller's inbox."""
    pooled, task_id = pool.claim(request_id, volunteer_id, new_id())
    with contextlib.suppress(UnknownTask):
        return get_task(task_id)  # our own claim, retried: its task is there already
    # The resident reads the code out at check-in and check-out, as with an offered task.
    task, events = domain.task_from_claim(pooled, task_id, volunteer_id, utcnow(), domain.new_service_code())
    with contextlib.suppress(AlreadyExists):
        tasks_store.insert(
            task.id,
            task_to_document(task),
            envelopes(events, producer=SERVICE, correlation_id=task.request_id, causation_id=causation_id),
        )
    return task


# --- events ----------------------------------------------------------------------------------------
def receive_offer(envelope: Envelope, offer: contracts.TaskOffered) -> None:
    """Put an offer in the inbox and take back older offers of the same request."""
    siblings = list(TaskDocument._get_collection().find({"request_id": offer.request_id}, {"outbox": 0}))
    superseded = any(doc["attempt"] > offer.attempt for doc in siblings if doc["_id"] != offer.task_id)
    # A hand-picked offer of a pooled request must win the pool's single claim, or it is born withdrawn.
    superseded = superseded or not pool.reserve_for_offer(offer)
    task = domain.task_from_offer(
        offer, superseded=superseded, request_cancelled=pool.is_cancelled(offer.request_id)
    )
    with contextlib.suppress(AlreadyExists):  # a redelivery: the task is there already
        tasks_store.insert(task.id, task_to_document(task), [])
    for doc in siblings:
        if doc["_id"] != offer.task_id and doc["attempt"] < offer.attempt:
            _withdraw(doc["_id"], domain.withdraw_offer)


@holding(tasks_store, _by_task_id)
def _withdraw(task_id: str, how: Callable[[Task], bool]) -> None:
    task = get_task(task_id)
    if how(task):
        tasks_store.save(task.id, task.version, task_to_document(task), [])


def on_request_cancelled(envelope: Envelope, data: contracts.RequestCancelled) -> None:
    """Take back every open task of the cancelled request."""
    for doc in TaskDocument._get_collection().find({"request_id": data.request_id}, {"_id": 1}):
        _withdraw(doc["_id"], domain.withdraw_for_cancellation)


def on_request_rated(envelope: Envelope, data: contracts.RequestRated) -> None:
    """Show the resident's score on the completed task."""
    completed = TaskDocument._get_collection().find(
        {"request_id": data.request_id, "status": TaskStatus.COMPLETED.value}, {"_id": 1}
    )
    for document in completed:
        _set_rating(document["_id"], data.score)


@holding(tasks_store, _by_task_id)
def _set_rating(task_id: str, score: int) -> None:
    task = get_task(task_id)
    tasks_store.save(task.id, task.version, {"rating_score": score}, [])
