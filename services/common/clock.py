"""The one clock every process reads: the real one, or in a simulation profile, a faster one.

Simulated time = origin + speed × (real time − started_at) + offset. Every process computes it from
the same three settings and the machine's real time, so all of them agree without talking
(docs/adr/0100). Without `CIVICLOOP_CLOCK_ORIGIN` the clock is the real one and nothing changes.

The settings come from the environment or from the file `CIVICLOOP_CLOCK_FILE` names (the
environment wins): a simulator can then set a new origin and restart the processes of a stack
whose process manager keeps the environment it started with.

Business time (deadlines, timers, sweeps, schedules, stats windows, event times) reads `now()`.
Mechanisms that protect processes from each other in real seconds (leases, the inbox's retention,
token lifetimes) read `real_now()`: a lease must outlast a slow database call, whatever the speed.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# How often a process looks at its offset file (chaos: a clock that jumps for one process).
OFFSET_FILE_CHECK_SECONDS = 0.5


class ClockSettings(BaseSettings):
    """`CIVICLOOP_CLOCK_*`: set only in simulation profiles."""

    model_config = SettingsConfigDict(env_prefix="CIVICLOOP_CLOCK_", extra="ignore")

    origin: datetime | None = Field(None, description="simulated time at started_at")
    speed: float = Field(1.0, gt=0, le=1_000_000, description="simulated seconds per real second")
    started_at: datetime | None = Field(None, description="the real moment simulated time was origin")
    offset_seconds: float = Field(0.0, description="this process's clock is ahead by this much")
    offset_dir: str = Field("", description="a folder whose file <process> holds more offset seconds")

    @model_validator(mode="after")
    def _both_or_neither(self) -> ClockSettings:
        if (self.origin is None) != (self.started_at is None):
            raise ValueError("CIVICLOOP_CLOCK_ORIGIN and CIVICLOOP_CLOCK_STARTED_AT go together")
        if self.origin is None and self.speed != 1.0:
            raise ValueError("CIVICLOOP_CLOCK_SPEED needs CIVICLOOP_CLOCK_ORIGIN and _STARTED_AT")
        for moment in (self.origin, self.started_at):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("clock times need a time zone (e.g. 2026-01-01T00:00:00+08:00)")
        return self


@dataclass
class _State:
    settings: ClockSettings
    process: str = ""
    file_offset: float = 0.0
    checked_at: float = float("-inf")
    file_stamp: float | None = None


_lock = threading.Lock()
_state: _State | None = None


def _current() -> _State:
    global _state
    if _state is None:
        with _lock:
            if _state is None:
                _state = _State(_read_settings())
    return _state


def _read_settings() -> ClockSettings:
    file = os.environ.get("CIVICLOOP_CLOCK_FILE")
    return ClockSettings(_env_file=file if file and os.path.isfile(file) else None)


def configure(settings: ClockSettings | None = None) -> None:
    """Read the settings again (tests, and a process that changed its environment)."""
    global _state
    with _lock:
        process = _state.process if _state else ""
        _state = _State(settings or _read_settings(), process=process)


def name_process(name: str) -> None:
    """Which offset file is this process's (`<service>-web`, `<service>-worker`)."""
    state = _current()
    state.process = name
    state.checked_at = float("-inf")


def is_simulated() -> bool:
    """Whether time runs from a simulation's origin rather than the wall."""
    return _current().settings.origin is not None


def speed() -> float:
    """Simulated seconds per real second (1 outside simulations)."""
    return _current().settings.speed


def real_now() -> datetime:
    """The machine's real time in UTC: for leases, retention and tokens, never for business."""
    return datetime.now(UTC)


def now() -> datetime:
    """Business time in UTC: the real time, or the simulation's."""
    state = _current()
    settings = state.settings
    real = real_now()
    if settings.origin is None or settings.started_at is None:
        moment = real
    else:
        moment = settings.origin + (real - settings.started_at) * settings.speed
    offset = settings.offset_seconds + _file_offset(state)
    return (moment + timedelta(seconds=offset)).astimezone(UTC) if offset else moment.astimezone(UTC)


def simulated(real: timedelta) -> timedelta:
    """How much business time passes during `real` of real time."""
    return real * speed()


def real_seconds(span: timedelta) -> float:
    """How many real seconds a span of business time lasts."""
    return span.total_seconds() / speed()


def _file_offset(state: _State) -> float:
    """The offset in `<offset_dir>/<process>`, re-read at most every half second."""
    directory = state.settings.offset_dir
    if not directory or not state.process:
        return 0.0
    moment = time.monotonic()
    if moment - state.checked_at < OFFSET_FILE_CHECK_SECONDS:
        return state.file_offset
    state.checked_at = moment
    path = Path(directory) / state.process
    try:
        stamp = path.stat().st_mtime
        if stamp != state.file_stamp:
            state.file_offset = float(path.read_text(encoding="utf-8").strip() or 0)
            state.file_stamp = stamp
    except (OSError, ValueError):
        # No file (or a half-written one): no extra offset, until a whole number is there.
        state.file_offset, state.file_stamp = 0.0, None
    return state.file_offset
