"""The inbox and the leases forget old entries minute by minute, by equality, on the real server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.common import db, inbox, locks, sweeps
from services.common.ids import new_id, utcnow
from tests.support import drop_database, integration_settings

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def database():
    base = integration_settings("requests")
    settings = base.model_copy(update={"mongo_url": base.mongo_url.replace("it_requests", "it_sweeps")})
    drop_database(settings)
    db.connect_database(settings)
    db.ensure_indexes(inbox.ProcessedEvent, locks.DocumentLock, sweeps.SweepCursor, settings=settings)
    yield
    db.connect_database(base)


def handled(hours_ago: float) -> str:
    """An inbox entry as `remember` writes it, handled `hours_ago`."""
    moment = utcnow() - timedelta(hours=hours_ago)
    event_id = new_id()
    inbox.ProcessedEvent._get_collection().insert_one(
        {"_id": event_id, "type": "t", "handled_at": moment, "handled_minute": sweeps.bucket(moment)}
    )
    return event_id


def cursor(name: str) -> str | None:
    found = sweeps.SweepCursor._get_collection().find_one({"_id": name})
    return found["through"] if found else None


def test_the_purge_forgets_what_is_older_than_the_retention_and_keeps_the_rest():
    old = [handled(10.1), handled(10.5), handled(10.9)]
    young = [handled(9.9), handled(1), handled(0)]
    inbox.remember("fresh-event", "t")
    due = {sweeps.bucket(utcnow() - timedelta(hours=10) - sweeps.MINUTE)}
    assert inbox.purge_older_than(hours=10) == 3
    due.add(sweeps.bucket(utcnow() - timedelta(hours=10) - sweeps.MINUTE))
    assert not any(inbox.already_handled(event_id) for event_id in old)
    assert all(inbox.already_handled(event_id) for event_id in [*young, "fresh-event"])
    assert cursor("inbox") in due  # the last minute that is wholly older than the retention


def test_a_second_purge_only_visits_the_minutes_that_fell_due_since():
    inbox.purge_older_than(hours=1)
    through = cursor("inbox")
    handled(0.5)
    assert inbox.purge_older_than(hours=1) == 0
    later = cursor("inbox")
    assert later is not None and through is not None and later >= through


def test_catching_up_after_a_long_stop_is_spread_over_several_sweeps():
    long_ago = utcnow() - timedelta(days=3)
    sweeps.SweepCursor._get_collection().insert_one({"_id": "inbox", "through": sweeps.bucket(long_ago)})
    first_day = handled(24 * 2.5)
    stale = handled(24 * 1.5)
    assert inbox.purge_older_than(hours=1) == 1  # one day of minutes: not yet as far as the stale entry
    assert not inbox.already_handled(first_day) and inbox.already_handled(stale)
    assert cursor("inbox") == sweeps.bucket(long_ago + sweeps.MINUTE * sweeps.MAX_MINUTES_PER_SWEEP)
    assert inbox.purge_older_than(hours=1) == 1
    assert not inbox.already_handled(stale)


def test_leases_of_dead_holders_are_swept_and_live_ones_kept():
    expired_at = utcnow() - timedelta(minutes=3)
    locks.DocumentLock._get_collection().insert_one(
        {
            "_id": "requests:abandoned",
            "lease": "l1",
            "owner": "a process that was killed",
            "expires_at": expired_at,
            "expires_minute": sweeps.bucket(expired_at),
        }
    )
    with locks.locked("requests:in-use"):
        assert locks.sweep_expired() == 1
        assert locks.DocumentLock._get_collection().find_one({"_id": "requests:in-use"}) is not None
    assert locks.DocumentLock._get_collection().find_one({"_id": "requests:abandoned"}) is None
