"""Ids of events a service has handled: the second guard against doing anything twice."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import mongoengine
from pymongo.errors import DuplicateKeyError

from services.common.ids import real_utcnow


class ProcessedEvent(mongoengine.Document):
    """One handled event; kept for the retention period, then purged."""

    meta = {"collection": "inbox", "indexes": ["handled_at"]}

    id = mongoengine.StringField(primary_key=True)
    type = mongoengine.StringField(required=True)
    handled_at = mongoengine.DateTimeField(required=True)


def already_handled(event_id: str) -> bool:
    """Whether this event id was handled before."""
    return ProcessedEvent._get_collection().count_documents({"_id": event_id}, limit=1) > 0


def remember(event_id: str, event_type: str) -> None:
    """Record that the event was handled (idempotent)."""
    with contextlib.suppress(DuplicateKeyError):
        document = {"_id": event_id, "type": event_type, "handled_at": real_utcnow()}
        ProcessedEvent._get_collection().insert_one(document)


def purge_older_than(hours: int) -> int:
    """Forget events handled more than `hours` ago; return how many were forgotten."""
    cutoff = real_utcnow() - timedelta(hours=hours)
    return ProcessedEvent._get_collection().delete_many({"handled_at": {"$lt": cutoff}}).deleted_count
