"""Ids of events a service has handled: the second guard against doing anything twice."""

from __future__ import annotations

from datetime import timedelta

import mongoengine

from services.common import sweeps, tables
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
    return tables.table(ProcessedEvent).get(event_id) is not None


def remember(event_id: str, event_type: str) -> None:
    """Record that the event was handled (idempotent)."""
    remember_all([(event_id, event_type)])


def remember_all(events: list[tuple[str, str]]) -> None:
    """Record that these (event id, type) were handled, in one round trip (ids already there stay)."""
    # Real time: redeliveries come in real seconds, whatever the clock's speed (docs/adr/0100).
    now = real_utcnow()
    tables.table(ProcessedEvent).insert_many(
        [
            {"_id": event_id, "type": event_type, "handled_at": now, "handled_minute": sweeps.bucket(now)}
            for event_id, event_type in dict(events).items()
        ]
    )


def purge_older_than(hours: int) -> int:
    """Forget events handled more than `hours` ago; return how many were forgotten."""
    return sweeps.sweep(ProcessedEvent, "handled_minute", before=real_utcnow() - timedelta(hours=hours))
