"""Per-document leases, so that read-modify-write of one document is never interleaved.

MongoDB applies `update_one({_id, version}, ...)` atomically, which is enough for optimistic
concurrency. FerretDB 1.24 (our local and CI database server) does not: it reads the matching
document, applies the update in memory and writes it back by `_id`, so two concurrent writers both
"match" and one update is lost (docs/adr/0005). What it does enforce atomically is a unique `_id`
on insert, so a lease is an inserted document: whoever inserts `locks/<collection>:<id>` first
holds it; the others wait. A lease expires, so a killed process cannot block a document for long;
the version check stays in every save as the guard on servers where updates are atomic.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import mongoengine
from pymongo.errors import BulkWriteError, DuplicateKeyError

from services.common import deadlines, sweeps
from services.common.ids import new_id, real_utcnow


class DocumentLock(mongoengine.Document):
    """A lease on one document: held by `owner` until released or until `expires_at`."""

    meta = {"collection": "locks", "indexes": ["expires_minute", "lease"]}

    id = mongoengine.StringField(primary_key=True)
    lease = mongoengine.StringField(required=True)
    owner = mongoengine.StringField()
    expires_at = mongoengine.DateTimeField(required=True)
    # Leases of killed processes are swept by the minute they expired in (services/common/sweeps.py).
    expires_minute = mongoengine.StringField()


class LockTimeout(Exception):
    """Another writer held the document for longer than we were willing to wait."""


class _Config:
    enabled = True
    ttl_seconds = 5.0
    wait_seconds = 10.0


config = _Config()


def configure(*, enabled: bool, ttl_seconds: float = 5.0, wait_seconds: float = 10.0) -> None:
    """Turn leases on (FerretDB) or off (a server with atomic conditional updates)."""
    config.enabled = enabled
    config.ttl_seconds = ttl_seconds
    config.wait_seconds = wait_seconds


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def acquire(key: str) -> str:
    """Take the lease on `key`, waiting for its holder; return the lease id."""
    collection = DocumentLock._get_collection()
    lease = new_id()
    deadline = time.monotonic() + config.wait_seconds
    pause = 0.001
    while True:
        # Real time: a lease outlasts a slow call in real seconds, whatever the clock's speed.
        now = real_utcnow()
        expires_at = now + timedelta(seconds=config.ttl_seconds)
        try:
            collection.insert_one(
                {
                    "_id": key,
                    "lease": lease,
                    "owner": _owner(),
                    "expires_at": expires_at,
                    "expires_minute": sweeps.bucket(expires_at),
                }
            )
            return lease
        except DuplicateKeyError:
            holder = collection.find_one({"_id": key})
            if holder is not None and holder["expires_at"].replace(tzinfo=now.tzinfo) < now:
                # Its holder died or hung: the lease is void; remove exactly that lease.
                collection.delete_one({"_id": key, "lease": holder["lease"]})
                continue
        if time.monotonic() > deadline:
            raise LockTimeout(f"{key} stayed locked for {config.wait_seconds}s")
        deadlines.check()  # an HTTP request whose time is up stops waiting at once
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def acquire_many(keys: list[str]) -> tuple[str, list[str]]:
    """Try to take the leases on `keys` in one round trip, without waiting; return the lease id and
    the keys it now holds (the others are held by someone else, or by a dead holder until swept)."""
    collection = DocumentLock._get_collection()
    lease = new_id()
    expires_at = real_utcnow() + timedelta(seconds=config.ttl_seconds)
    rows = [
        {
            "_id": key,
            "lease": lease,
            "owner": _owner(),
            "expires_at": expires_at,
            "expires_minute": sweeps.bucket(expires_at),
        }
        for key in keys
    ]
    try:
        collection.insert_many(rows, ordered=False)
        return lease, list(keys)
    except BulkWriteError as error:
        refused = {rows[failure["index"]]["_id"] for failure in error.details.get("writeErrors", [])}
        held = [key for key in keys if key not in refused]
        if error.details.get("writeConcernErrors") or any(
            failure.get("code") != 11000 for failure in error.details.get("writeErrors", [])
        ):
            # Not only taken leases: give back what we got and let the caller's error handling run.
            release_many(held, lease)
            raise
        return lease, held


def release_many(keys: list[str], lease: str) -> None:
    """Give back the leases `acquire_many` took (only ours), in one round trip."""
    # One statement by the shared lease id: a lease that expired and passed to someone else carries
    # their id, not ours, so it stays.
    if keys:
        DocumentLock._get_collection().delete_many({"lease": lease})


def release(key: str, lease: str) -> None:
    """Give the lease back (only ours: an expired one may have passed to someone else)."""
    DocumentLock._get_collection().delete_one({"_id": key, "lease": lease})


def sweep_expired() -> int:
    """Delete leases that expired at least a minute ago (their holders died); return how many."""
    return sweeps.sweep(DocumentLock, "expires_minute", before=real_utcnow() - sweeps.MINUTE)


@contextmanager
def locked(key: str) -> Iterator[None]:
    """Hold the lease on `key` for the duration of the block (no-op when leases are off)."""
    if not config.enabled:
        yield
        return
    lease = acquire(key)
    try:
        yield
    finally:
        release(key, lease)
