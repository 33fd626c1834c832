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

from services.common import deadlines, sweeps, tables
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
# Leases this thread holds: a use case that saves through a store which settles its rollups under the
# same lease takes it once, not twice (a second take by the same thread would wait for itself).
_held = threading.local()


def configure(*, enabled: bool, ttl_seconds: float = 5.0, wait_seconds: float = 10.0) -> None:
    """Turn leases on (FerretDB) or off (a server with atomic conditional updates)."""
    config.enabled = enabled
    config.ttl_seconds = ttl_seconds
    config.wait_seconds = wait_seconds


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def acquire(key: str) -> str:
    """Take the lease on `key`, waiting for its holder; return the lease id."""
    collection = tables.table(DocumentLock)
    lease = new_id()
    deadline = time.monotonic() + config.wait_seconds
    pause = 0.001
    while True:
        # Real time: a lease outlasts a slow call in real seconds, whatever the clock's speed.
        now = real_utcnow()
        expires_at = now + timedelta(seconds=config.ttl_seconds)
        try:
            collection.insert(
                {
                    "_id": key,
                    "lease": lease,
                    "owner": _owner(),
                    "expires_at": expires_at,
                    "expires_minute": sweeps.bucket(expires_at),
                }
            )
            return lease
        except tables.AlreadyExists:
            holder = collection.get(key)
            if holder is not None and holder["expires_at"].replace(tzinfo=now.tzinfo) < now:
                # Its holder died or hung: the lease is void; remove exactly that lease.
                collection.delete({"_id": key, "lease": holder["lease"]})
                continue
        if time.monotonic() > deadline:
            raise LockTimeout(f"{key} stayed locked for {config.wait_seconds}s")
        deadlines.check()  # an HTTP request whose time is up stops waiting at once
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def acquire_many(keys: list[str]) -> tuple[str, list[str]]:
    """Try to take the leases on `keys` in one round trip, without waiting; return the lease id and
    the keys it now holds (the others are held by someone else, or by a dead holder until swept)."""
    lease = new_id()
    expires_at = real_utcnow() + timedelta(seconds=config.ttl_seconds)
    owner = _owner()
    refused = tables.table(DocumentLock).insert_many(
        [
            {
                "_id": key,
                "lease": lease,
                "owner": owner,
                "expires_at": expires_at,
                "expires_minute": sweeps.bucket(expires_at),
            }
            for key in keys
        ]
    )
    return lease, [key for key in keys if key not in refused]


def release_many(lease: str) -> None:
    """Give back every lease `acquire_many` took under `lease` (only ours), in one round trip."""
    # One statement by the shared lease id: a lease that expired and passed to someone else carries
    # their id, not ours, so it stays.
    tables.table(DocumentLock).delete({"lease": lease})


def release(key: str, lease: str) -> None:
    """Give the lease back (only ours: an expired one may have passed to someone else)."""
    tables.table(DocumentLock).delete({"_id": key, "lease": lease})


def sweep_expired() -> int:
    """Delete leases that expired at least a minute ago (their holders died); return how many."""
    return sweeps.sweep(DocumentLock, "expires_minute", before=real_utcnow() - sweeps.MINUTE)


@contextmanager
def locked(key: str) -> Iterator[None]:
    """Hold the lease on `key` for the duration of the block (no-op when leases are off, or held already)."""
    held: set[str] = _held.__dict__.setdefault("keys", set())
    if not config.enabled or key in held:
        yield
        return
    lease = acquire(key)
    held.add(key)
    try:
        yield
    finally:
        held.discard(key)
        release(key, lease)
