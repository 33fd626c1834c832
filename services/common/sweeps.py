"""Forgetting old documents by equality: each carries the minute it falls due, whole minutes are deleted.

A range delete (`handled_at < cutoff`) is evaluated by FerretDB after it has read every row of the
collection, so its cost grows with history. Instead each document that is to be forgotten carries a
bucket, the UTC minute it falls due (`2026-11-30T05:41`), and a sweep deletes bucket after bucket by
equality, which an index serves on both servers. A cursor document remembers the last minute swept,
so a sweep visits only the minutes that became due since the last one (docs/adr/0070). A minute
holds what one service writes in a minute, far below the 65,535 ids FerretDB can delete in one
statement.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import mongoengine

from services.common.ids import as_utc

FORMAT = "%Y-%m-%dT%H:%M"
MINUTE = timedelta(minutes=1)
# A sweep with no cursor yet (a new database: workers sweep when they start) begins this far before
# its cutoff. Whatever such a database holds was written moments ago, far after any cutoff.
FIRST_LOOKBACK = timedelta(hours=1)
# At most this many minutes per sweep, so catching up after a long stop is spread over several runs.
MAX_MINUTES_PER_SWEEP = 1440


class SweepCursor(mongoengine.Document):
    """The last minute a sweep has deleted, per swept collection."""

    meta = {"collection": "sweeps"}

    id = mongoengine.StringField(primary_key=True)
    through = mongoengine.StringField(required=True)


def bucket(moment: datetime) -> str:
    """The minute `moment` falls in, as stored in a document's bucket field."""
    return as_utc(moment).strftime(FORMAT)


def _from_bucket(value: str) -> datetime:
    return datetime.strptime(value, FORMAT).replace(tzinfo=UTC)


def sweep(document: type[mongoengine.Document], field: str, before: datetime) -> int:
    """Delete the documents whose `field` names a minute before `before`; return how many."""
    collection = document._get_collection()
    cursors = SweepCursor._get_collection()
    name = collection.name
    last = _from_bucket(bucket(before)) - MINUTE
    cursor = cursors.find_one({"_id": name})
    start = _from_bucket(cursor["through"]) + MINUTE if cursor else last - FIRST_LOOKBACK
    deleted = 0
    minute = start
    swept = None
    for _ in range(MAX_MINUTES_PER_SWEEP):
        if minute > last:
            break
        deleted += collection.delete_many({field: bucket(minute)}).deleted_count
        swept = minute
        minute += MINUTE
    if swept is not None:
        # Two workers sweeping at once both move the cursor forward; the later write may move it
        # back a little, which only makes the next sweep visit empty minutes again.
        cursors.update_one({"_id": name}, {"$set": {"through": bucket(swept)}}, upsert=True)
    return deleted
