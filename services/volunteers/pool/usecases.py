"""Use cases of the claim pool (抢单): open a pooled request, list it, claim it, reserve it for an offer.

A dispatcher's hand-picked offer of a pooled request, and a late acceptance of an earlier offer,
take the request's single claim the same way a claim does, so no two of them can both win.
"""

from __future__ import annotations

import contextlib

from pymongo.errors import DuplicateKeyError

from services.common import contracts
from services.common.domain import Missing
from services.common.events import Envelope
from services.common.ids import utcnow
from services.volunteers.people import usecases as people
from services.volunteers.pool import domain
from services.volunteers.pool.domain import AlreadyClaimed
from services.volunteers.pool.models import (
    CancelledRequest,
    PoolClaim,
    PoolEntry,
    entry_from_document,
    entry_to_document,
)


class NotInPool(Missing):
    """No open request with that id is in the pool."""


# --- events ----------------------------------------------------------------------------------------
def on_request_pooled(envelope: Envelope, data: contracts.RequestPooled) -> None:
    """Open the request for claims (once)."""
    with contextlib.suppress(DuplicateKeyError):
        PoolEntry._get_collection().insert_one(entry_to_document(data))


def on_request_cancelled(envelope: Envelope, data: contracts.RequestCancelled) -> None:
    """Remember the cancellation: the request is closed to claims, and late offers of it are void."""
    with contextlib.suppress(DuplicateKeyError):
        CancelledRequest._get_collection().insert_one(
            {"_id": data.request_id, "cancelled_at": data.cancelled_at}
        )


def is_cancelled(request_id: str) -> bool:
    """Whether the request is known to be cancelled."""
    return CancelledRequest._get_collection().find_one({"_id": request_id}, {"_id": 1}) is not None


# --- the single claim ------------------------------------------------------------------------------
def _reserve(request_id: str, volunteer_id: str | None, task_id: str, kind: str) -> bool:
    """Take the pooled request's single claim for this task; True when it is (or already was) ours."""
    if PoolEntry._get_collection().find_one({"_id": request_id}, {"_id": 1}) is None:
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


def reserve_for_accept(request_id: str, volunteer_id: str | None, task_id: str) -> None:
    """Accepting an offer (late) of a request that went to the pool must win the pool's single claim."""
    if not _reserve(request_id, volunteer_id, task_id, "offer"):
        raise AlreadyClaimed("someone else took this request from the pool")


def release(request_id: str, task_id: str) -> None:
    """A declined hand-picked offer gives the request back to the pool."""
    PoolClaim._get_collection().delete_one({"_id": request_id, "task_id": task_id})


# --- reading and claiming --------------------------------------------------------------------------
def open_entries(skills: list[str] | None, township: str | None, limit: int) -> list[contracts.RequestPooled]:
    """Unclaimed, uncancelled entries a volunteer with these skills could serve; their township first."""
    claimed = {d["_id"] for d in PoolClaim._get_collection().find({}, {"_id": 1})}
    cancelled = {d["_id"] for d in CancelledRequest._get_collection().find({}, {"_id": 1})}
    entries = [
        entry_from_document(document)
        for document in PoolEntry._get_collection().find({}).sort([("pooled_at", 1)])
        if document["_id"] not in claimed | cancelled
    ]
    found = [entry for entry in entries if domain.covers(entry, skills)]
    return domain.own_township_first(found, township)[:limit]


def claim(request_id: str, volunteer_id: str, task_id: str) -> tuple[contracts.RequestPooled, str]:
    """Claim a pooled request for a new task: (the request, the task's id); every later claim conflicts."""
    document = PoolEntry._get_collection().find_one({"_id": request_id})
    if document is None or is_cancelled(request_id):
        raise NotInPool("no open request with that id in the pool")
    pooled = entry_from_document(document)
    domain.check_claimant(pooled, people.get_volunteer(volunteer_id))
    record = {"volunteer_id": volunteer_id, "task_id": task_id, "kind": "claim", "claimed_at": utcnow()}
    try:
        PoolClaim._get_collection().insert_one({"_id": request_id, **record})
    except DuplicateKeyError:
        existing = PoolClaim._get_collection().find_one({"_id": request_id}) or {}
        if existing.get("volunteer_id") != volunteer_id or existing.get("kind") != "claim":
            raise AlreadyClaimed("someone else claimed this request first") from None
        task_id = existing["task_id"]  # our own claim, retried: the task it made
    return pooled, task_id
