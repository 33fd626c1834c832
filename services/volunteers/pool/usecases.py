"""The claim pool (抢单): requests nobody took along the cascade, open for eligible volunteers to claim.

Exactly one winner: a claim is the insert of a document whose `_id` is the request id, and the
database refuses a second insert of the same `_id` atomically (on FerretDB too, ADR 0005). A
dispatcher's hand-picked offer of a pooled request reserves it the same way, so a claim and a
manual assignment cannot both win.
"""

from __future__ import annotations

import contextlib
from typing import Any

import mongoengine
from flask import g
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field
from pymongo.errors import DuplicateKeyError

from services.common import contracts
from services.common.auth import STAFF, Role, require
from services.common.domain import DomainError, StateConflict
from services.common.events import Envelope, make_event
from services.common.ids import new_id, utcnow
from services.common.schemas import ERROR_RESPONSES
from services.common.store import AlreadyExists, to_state
from services.volunteers.hours import domain as hours
from services.volunteers.tasks import domain
from services.volunteers.tasks.domain import Task, TaskStatus
from services.volunteers.tasks.models import CancelledRequest, tasks_store
from services.volunteers.tasks.usecases import NotFoundHere, get_task, get_volunteer


class PoolEntry(mongoengine.Document):
    """A request open for claims; `_id` is the request id."""

    meta = {"collection": "pool", "indexes": ["township", "pooled_at"], "strict": False}

    id = mongoengine.StringField(primary_key=True)
    category = mongoengine.StringField()
    skills_required = mongoengine.ListField(mongoengine.StringField())
    township = mongoengine.StringField()
    village = mongoengine.StringField()
    title = mongoengine.StringField()
    urgency = mongoengine.StringField()
    pooled_at = mongoengine.DateTimeField()


class PoolClaim(mongoengine.Document):
    """Who won a pooled request: `_id` is the request id, so there is only ever one."""

    meta = {"collection": "pool_claims", "strict": False}

    id = mongoengine.StringField(primary_key=True)
    volunteer_id = mongoengine.StringField()
    task_id = mongoengine.StringField()
    kind = mongoengine.StringField()  # "claim" or "manual"
    claimed_at = mongoengine.DateTimeField()


class AlreadyClaimed(StateConflict):
    """Someone else claimed the request first."""


# --- events ----------------------------------------------------------------------------------------
def on_request_pooled(envelope: Envelope, data: contracts.RequestPooled) -> None:
    """Open the request for claims (once)."""
    entry = data.model_dump(mode="python", exclude={"request_id"})
    if entry.get("window"):
        entry["window"] = {"start": data.window.start, "end": data.window.end}  # type: ignore[union-attr]
    with contextlib.suppress(DuplicateKeyError):
        PoolEntry._get_collection().insert_one({"_id": data.request_id, **entry})


def _reserve(request_id: str, volunteer_id: str | None, task_id: str, kind: str) -> bool:
    """Take the pooled request's single claim for this task; True when it is (or already was) ours."""
    if PoolEntry._get_collection().find_one({"_id": request_id}) is None:
        return True  # never pooled: nothing to reserve
    claim = {"volunteer_id": volunteer_id, "task_id": task_id, "kind": kind, "claimed_at": utcnow()}
    try:
        PoolClaim._get_collection().insert_one({"_id": request_id, **claim})
        return True
    except DuplicateKeyError:
        existing = PoolClaim._get_collection().find_one({"_id": request_id}) or {}
        return existing.get("task_id") == task_id


def reserve_for_offer(offer: contracts.TaskOffered) -> bool:
    """A hand-picked offer of a pooled request takes it out of the pool; False when a claim won first."""
    if offer.level != "manual":
        return True
    return _reserve(offer.request_id, offer.volunteer_id, offer.task_id, "manual")


def reserve_for_accept(task: Task) -> None:
    """Accepting an offer (late) of a request that went to the pool must win the pool's single claim."""
    if not _reserve(task.request_id, task.volunteer_id, task.id, "offer"):
        raise AlreadyClaimed("someone else took this request from the pool")


def release(task: Task) -> None:
    """A declined hand-picked offer gives the request back to the pool."""
    PoolClaim._get_collection().delete_one({"_id": task.request_id, "task_id": task.id})


# --- reading and claiming --------------------------------------------------------------------------
def open_entries(skills: list[str] | None, township: str | None, limit: int) -> list[dict[str, Any]]:
    """Unclaimed, uncancelled entries a volunteer with these skills could serve; their township first."""
    claimed = {d["_id"] for d in PoolClaim._get_collection().find({}, {"_id": 1})}
    cancelled = {d["_id"] for d in CancelledRequest._get_collection().find({}, {"_id": 1})}
    found = [
        entry
        for entry in PoolEntry._get_collection().find({}).sort([("pooled_at", 1)])
        if entry["_id"] not in claimed | cancelled
        and (skills is None or set(entry.get("skills_required", [])) <= set(skills))
    ]
    found.sort(key=lambda entry: entry.get("township") != township)
    return [_present(entry) for entry in found[:limit]]


def _present(entry: dict[str, Any]) -> dict[str, Any]:
    keys = ("category", "skills_required", "township", "village", "title", "urgency", "pooled_at", "window")
    return {"request_id": entry["_id"], **{key: entry.get(key) for key in keys}}


def claim(request_id: str, volunteer_id: str, causation_id: str) -> Task:
    """Claim a pooled request: the first claim wins, every other gets a conflict."""
    entry = PoolEntry._get_collection().find_one({"_id": request_id})
    if entry is None or CancelledRequest._get_collection().find_one({"_id": request_id}):
        raise NotFoundHere("no open request with that id in the pool")
    volunteer = get_volunteer(volunteer_id)
    if not volunteer.active:
        raise StateConflict("an inactive volunteer cannot claim requests")
    if not set(entry.get("skills_required", [])) <= set(volunteer.skills):
        raise DomainError("your skills do not cover this request", field="request_id")
    task_id = new_id()
    record = {"volunteer_id": volunteer_id, "task_id": task_id, "kind": "claim", "claimed_at": utcnow()}
    try:
        PoolClaim._get_collection().insert_one({"_id": request_id, **record})
    except DuplicateKeyError:
        existing = PoolClaim._get_collection().find_one({"_id": request_id}) or {}
        if existing.get("volunteer_id") != volunteer_id or existing.get("kind") != "claim":
            raise AlreadyClaimed("someone else claimed this request first") from None
        task_id = existing["task_id"]  # our own claim, retried: make sure its task exists
    return _task_for_claim(entry, task_id, volunteer_id, causation_id)


def _task_for_claim(entry: dict[str, Any], task_id: str, volunteer_id: str, causation_id: str) -> Task:
    with contextlib.suppress(NotFoundHere):
        return get_task(task_id)
    now = utcnow()
    window = entry.get("window") or {}
    # The resident reads this out at check-in and check-out, as with an offered task.
    service_code = hours.new_service_code()
    task = Task(
        id=task_id,
        request_id=entry["_id"],
        attempt=0,
        level="pool",
        status=TaskStatus.ACCEPTED,
        resident_id=entry.get("resident_id") or "",
        category=entry.get("category", ""),
        township=entry.get("township", ""),
        village=entry.get("village", ""),
        title=entry.get("title", ""),
        description=entry.get("description") or "",
        offered_at=now,
        deadline=now,
        volunteer_id=volunteer_id,
        urgency=entry.get("urgency") or "normal",
        address=entry.get("address"),
        contact_phone_masked=entry.get("contact_phone_masked"),
        window_start=window.get("start"),
        window_end=window.get("end"),
        accepted_at=now,
        service_code=service_code,
    )
    event = contracts.TaskAccepted(
        task_id=task.id,
        request_id=task.request_id,
        volunteer_id=volunteer_id,
        township=task.township,
        category=task.category,
        accepted_at=now,
        service_code=service_code,
    )
    envelope = make_event(
        event, producer="volunteers", correlation_id=task.request_id, causation_id=causation_id
    )
    with contextlib.suppress(AlreadyExists):
        tasks_store.insert(task.id, to_state(task), [envelope])
    return task


# --- HTTP ------------------------------------------------------------------------------------------
class PoolQuery(BaseModel):
    limit: int = Field(50, ge=1, le=200)


class PoolPath(BaseModel):
    request_id: str = Field(min_length=1, max_length=64)


pool_api = APIBlueprint(
    "pool",
    __name__,
    url_prefix="/api/v1/pool",
    abp_tags=[Tag(name="pool", description="抢单: requests open for volunteers to claim")],
    abp_security=[{"bearer": []}],
    abp_responses=ERROR_RESPONSES,
)


@pool_api.get("")
def list_pool(query: PoolQuery) -> dict[str, Any]:
    """Open requests the caller could serve (volunteers), or all of them (staff)."""
    principal = require(Role.VOLUNTEER, *STAFF)
    if principal.is_staff:
        return {"items": open_entries(None, principal.township, query.limit)}
    volunteer = get_volunteer(principal.sub)
    if not volunteer.active:
        return {"items": []}
    return {"items": open_entries(volunteer.skills, volunteer.township, query.limit)}


@pool_api.post("/<request_id>/claim")
def claim_request(path: PoolPath) -> tuple[dict[str, Any], int]:
    """Claim an open request; the first claim wins and becomes an accepted task in the caller's inbox."""
    principal = require(Role.VOLUNTEER)
    from services.volunteers.tasks.api import present_task

    task = claim(path.request_id, principal.sub, g.request_id)
    return present_task(task), 201


OTHER_DOCUMENTS = (PoolEntry, PoolClaim)
__all__ = ["domain"]
