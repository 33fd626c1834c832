"""The one clock: real outside simulations; origin + speed × elapsed inside; a per-process offset."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from pydantic import ValidationError

from services.common import clock
from services.common.auth import issue_token
from services.common.clock import ClockSettings
from services.common.ids import real_utcnow, utcnow
from services.common.worker import PERIODIC_TICK_SECONDS, PeriodicJob

ORIGIN = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def real_clock_afterwards() -> Iterator[None]:
    yield
    clock.configure(ClockSettings())
    clock.name_process("")


def simulate(speed: float, started_ago: float = 0.0, **extra: object) -> datetime:
    """Configure a simulated clock that started `started_ago` real seconds ago; return that start."""
    started = datetime.now(UTC) - timedelta(seconds=started_ago)
    clock.configure(ClockSettings(origin=ORIGIN, speed=speed, started_at=started, **extra))
    return started


def test_outside_a_simulation_the_clock_is_the_real_one():
    clock.configure(ClockSettings())
    before = datetime.now(UTC)
    now = utcnow()
    assert before - timedelta(milliseconds=1) <= now <= datetime.now(UTC)
    assert not clock.is_simulated() and clock.speed() == 1.0


def test_simulated_time_is_origin_plus_speed_times_real_elapsed():
    simulate(speed=3600, started_ago=10)  # ten real seconds at an hour a second: ten hours
    elapsed = clock.now() - ORIGIN
    assert timedelta(hours=10) <= elapsed < timedelta(hours=10, minutes=2)
    assert utcnow().microsecond % 1000 == 0


def test_every_process_computes_the_same_time_from_the_same_settings():
    started = simulate(speed=1000, started_ago=5)
    first = clock.now()
    clock.configure(ClockSettings(origin=ORIGIN, speed=1000, started_at=started))  # another process
    second = clock.now()
    # Read a moment apart at a thousandfold: the same time within the real gap between the reads.
    assert timedelta(0) <= second - first < timedelta(seconds=60)


def test_the_environment_sets_the_clock(monkeypatch):
    monkeypatch.setenv("CIVICLOOP_CLOCK_ORIGIN", "2026-06-01T00:00:00+08:00")
    monkeypatch.setenv("CIVICLOOP_CLOCK_STARTED_AT", datetime.now(UTC).isoformat())
    monkeypatch.setenv("CIVICLOOP_CLOCK_SPEED", "86400")
    clock.configure()
    assert clock.is_simulated() and clock.speed() == 86400
    assert clock.now() >= datetime(2026, 5, 31, 16, tzinfo=UTC)


def test_a_clock_file_sets_the_clock_and_the_environment_wins(monkeypatch, tmp_path):
    file = tmp_path / "clock.env"
    started = datetime.now(UTC).isoformat()
    file.write_text(
        f"CIVICLOOP_CLOCK_ORIGIN=2026-03-01T00:00:00+00:00\nCIVICLOOP_CLOCK_STARTED_AT={started}\n"
        "CIVICLOOP_CLOCK_SPEED=60\n"
    )
    monkeypatch.setenv("CIVICLOOP_CLOCK_FILE", str(file))
    clock.configure()
    assert clock.speed() == 60 and clock.now() < datetime(2026, 3, 2, tzinfo=UTC)
    monkeypatch.setenv("CIVICLOOP_CLOCK_SPEED", "120")
    clock.configure()
    assert clock.speed() == 120


@pytest.mark.parametrize(
    "settings",
    [
        {"origin": ORIGIN},
        {"started_at": ORIGIN},
        {"speed": 10},
        {"origin": datetime(2026, 1, 1), "started_at": ORIGIN},
        {"origin": ORIGIN, "started_at": ORIGIN, "speed": 0},
    ],
)
def test_half_a_clock_is_refused(settings):
    with pytest.raises(ValidationError):
        ClockSettings(**settings)


def test_a_process_offset_moves_only_that_process(tmp_path):
    simulate(speed=1, offset_seconds=7200)
    assert timedelta(hours=2) - timedelta(seconds=5) < clock.now() - ORIGIN < timedelta(hours=2, seconds=5)


def test_an_offset_file_makes_one_process_jump_while_it_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(clock, "OFFSET_FILE_CHECK_SECONDS", 0.0)
    simulate(speed=1, offset_dir=str(tmp_path))
    clock.name_process("dispatch-worker")
    before = clock.now()
    (tmp_path / "dispatch-worker").write_text("3600")
    (tmp_path / "requests-worker").write_text("-99999")  # another process's file changes nothing here
    jumped = clock.now()
    assert timedelta(minutes=59) < jumped - before < timedelta(minutes=61)
    time.sleep(0.01)
    (tmp_path / "dispatch-worker").unlink()
    assert clock.now() - before < timedelta(minutes=1)


def test_mechanisms_keep_real_time_while_business_time_runs_fast():
    simulate(speed=100_000, started_ago=60)  # 69 simulated days after the origin
    assert abs(utcnow() - (ORIGIN + timedelta(seconds=6_000_000))) < timedelta(hours=1)
    assert abs(real_utcnow() - datetime.now(UTC)) < timedelta(seconds=1)
    token = issue_token("s" * 32, sub="x", role="admin")
    # PyJWT checks expiry against the real clock: a token issued in simulated time would be refused.
    assert jwt.decode(token, "s" * 32, algorithms=["HS256"], issuer="civicloop")["sub"] == "x"


def test_sweeps_follow_the_clock_and_gauges_do_not():
    sweep = PeriodicJob("offer-deadlines", 60, lambda: None, follows_clock=True)
    gauge = PeriodicJob("gauge", 15, lambda: None)
    assert sweep.period_seconds == 60 and gauge.period_seconds == 15
    simulate(speed=120)
    assert sweep.period_seconds == 0.5 and gauge.period_seconds == 15
    simulate(speed=100_000)
    assert sweep.period_seconds == PERIODIC_TICK_SECONDS
    assert clock.simulated(timedelta(seconds=5)) == timedelta(seconds=500_000)
    assert clock.real_seconds(timedelta(hours=1)) == pytest.approx(0.036)


def test_the_accounts_keys_sign_in_real_time_and_its_sweep_follows_the_clock():
    import services.accounts as accounts
    from services.common.keyring import KeyringSource
    from services.common.settings import Settings
    from tests.keys import keyring_json

    source = KeyringSource(keyring_json())
    simulate(speed=100_000, started_ago=60)  # business time is months before the key was made
    key = source.signing_key()  # a business-time lookup would find no key active yet
    assert source.current().find(key.kid, real_utcnow()) is not None
    settings = Settings(service="accounts", mongo_url="mongodb://127.0.0.1:1/x", notify_sweep_seconds=60)
    (sweep,) = accounts.worker_spec(settings).periodic
    assert sweep.follows_clock and sweep.period_seconds == PERIODIC_TICK_SECONDS
