"""Ids of events a service has handled: the second guard against doing anything twice."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import mongoengine
from pymongo.errors import DuplicateKeyError

from services.common import sweeps
from services.common.ids import real_utcnow


class ProcessedEvent(mongoengine.Document):
    """One handled event; kept for the retention period, then purged with its minute."""

    meta = {"collection": "inbox", "indexes": ["handled_minute"]}

    id = mongoengine.StringField(primary_key=True)
    type = mongoengine.StringField(required=True)
    handled_at = mongoengine.DateTimeField(required=True)
    # The purge deletes whole minutes by equality (services/common/sweeps.py).
    handled_minute = mongoengine.StringField(required=True)


def already_handled(event_id: str) -> bool:
    """Whether this event id was handled before."""
    # A find by _id, not count_documents: the wire server runs a count as an aggregation pipeline.
    return ProcessedEvent._get_collection().find_one({"_id": event_id}, {"_id": 1}) is not None


def remember(event_id: str, event_type: str) -> None:
    """Record that the event was handled (idempotent)."""
    # Real time: redeliveries come in real seconds, whatever the clock's speed (docs/adr/0100).
    now = real_utcnow()
    with contextlib.suppress(DuplicateKeyError):
        ProcessedEvent._get_collection().insert_one(
            {"_id": event_id, "type": event_type, "handled_at": now, "handled_minute": sweeps.bucket(now)}
        )


def purge_older_than(hours: int) -> int:
    """Forget events handled more than `hours` ago; return how many were forgotten."""
    return sweeps.sweep(ProcessedEvent, "handled_minute", before=real_utcnow() - timedelta(hours=hours))
