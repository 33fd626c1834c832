"""How the claim pool is stored: open requests, the single claim each can have, cancellations.

Exactly one winner: a claim is the insert of a document whose `_id` is the request id, and the
database refuses a second insert of the same `_id` atomically (on FerretDB too, ADR 0005).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import mongoengine

from services.common import contracts, personal


class PoolEntry(mongoengine.Document):
    """A request open for claims (the `request.pooled` data); `_id` is the request id."""

    meta = {"collection": "pool", "indexes": ["township", "pooled_at"], "strict": False}

    id = mongoengine.StringField(primary_key=True)
    category = mongoengine.StringField()
    skills_required = mongoengine.ListField(mongoengine.StringField())
    township = mongoengine.StringField()
    village = mongoengine.StringField()
    title = mongoengine.StringField()
    urgency = mongoengine.StringField()
    pooled_at = mongoengine.DateTimeField()
    resident_id = mongoengine.StringField()
    description = mongoengine.StringField()
    address = mongoengine.StringField()
    contact_phone_masked = mongoengine.StringField()
    window = mongoengine.DictField()


def entry_to_document(pooled: contracts.RequestPooled) -> dict[str, Any]:
    """The stored fields of a pooled request, `_id` included."""
    entry = pooled.model_dump(mode="python", exclude={"request_id"})
    if pooled.window is not None:
        entry["window"] = {"start": pooled.window.start, "end": pooled.window.end}
    # Sealed at rest (docs/adr/0095): the resident's street address; the phone is kept masked only.
    entry["address"] = personal.seal(pooled.address)
    return {"_id": pooled.request_id, **entry}


def entry_from_document(document: Mapping[str, Any]) -> contracts.RequestPooled:
    """The pooled request of a stored entry (its address opened for the volunteer who claims it)."""
    opened = {**document, "address": personal.unseal(document.get("address"))}
    return contracts.RequestPooled.model_validate({**opened, "request_id": document["_id"]})


class PoolClaim(mongoengine.Document):
    """Who won a pooled request: `_id` is the request id, so there is only ever one."""

    meta = {"collection": "pool_claims", "strict": False}

    id = mongoengine.StringField(primary_key=True)
    volunteer_id = mongoengine.StringField()
    task_id = mongoengine.StringField()
    kind = mongoengine.StringField()  # "claim", "manual" (a dispatcher's offer) or "offer" (a late accept)
    claimed_at = mongoengine.DateTimeField()


class CancelledRequest(mongoengine.Document):
    """A request known to be cancelled: closed to claims, and a late offer of it is born withdrawn."""

    meta = {"collection": "cancelled_requests"}

    id = mongoengine.StringField(primary_key=True)
    cancelled_at = mongoengine.DateTimeField()
