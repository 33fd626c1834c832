"""Identifiers and clocks."""

from __future__ import annotations

from datetime import UTC, datetime

from ulid import ULID

from services.common import clock


def new_id() -> str:
    """A new ULID string: unique, and sortable by creation time."""
    return str(ULID())


def utcnow() -> datetime:
    """Business time in UTC, to the millisecond (what BSON keeps): the one clock (common/clock.py)."""
    return _to_millisecond(clock.now())


def real_utcnow() -> datetime:
    """The machine's real time, to the millisecond: for leases, retention and tokens only."""
    return _to_millisecond(clock.real_now())


def _to_millisecond(now: datetime) -> datetime:
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def isoformat(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, as events and APIs carry times."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def as_utc(moment: datetime) -> datetime:
    """A datetime from BSON (naive UTC) made timezone-aware."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
