"""The simulation's own stack: a profile of its own, started with the clock the run needs."""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from civicloop.profiles import ROOT, Profile
from services import SERVICES
from services.common import clock
from services.common.clock import ClockSettings

STACK = ROOT / "deploy" / "local" / "stack.sh"
NODES = ROOT / "deploy" / "local" / "rabbitmq-cluster.sh"
# Real seconds the service processes get to restart before simulated time starts running.
RESTART_ALLOWANCE_SECONDS = 25.0


class SimStack:
    """A stack under a simulation profile, whose processes read their clock from `clock.env`."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.name = profile.name
        self.values = profile.values()
        self.run_dir = ROOT / ".run" / self.name
        self.clock_file = ROOT / self.values.get("CIVICLOOP_CLOCK_FILE", f".run/{self.name}/clock.env")
        self.offset_dir = self.run_dir / "clock"
        # A busy machine restarts slowly: start from what the last restart of this stack took.
        self.allowance_file = self.run_dir / "restart-seconds"
        self.allowance = max(RESTART_ALLOWANCE_SECONDS, _read_seconds(self.allowance_file))

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.values['GATEWAY_PORT']}"

    @property
    def nodes(self) -> int:
        return int(self.values.get("RABBITMQ_NODES", "1"))

    def script(self, script: Path, *arguments: str, check: bool = True, timeout: float = 600) -> str:
        done = subprocess.run(
            [str(script), *arguments], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and done.returncode != 0:
            raise RuntimeError(
                f"{script.name} {' '.join(arguments)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            )
        return done.stdout

    def stack(self, command: str, *arguments: str, check: bool = True) -> str:
        return self.script(STACK, command, self.name, *arguments, check=check)

    def ctl(self, *arguments: str) -> str:
        """supervisorctl of this stack."""
        return self.stack("ctl", *arguments, check=False)

    def write_clock(self, settings: ClockSettings) -> None:
        """The clock every process of the stack (and this one) reads from now on."""
        self.clock_file.parent.mkdir(parents=True, exist_ok=True)
        self.offset_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.offset_dir.iterdir():
            stale.unlink()
        lines = [
            f"CIVICLOOP_CLOCK_ORIGIN={settings.origin.isoformat() if settings.origin else ''}",
            f"CIVICLOOP_CLOCK_STARTED_AT={settings.started_at.isoformat() if settings.started_at else ''}",
            f"CIVICLOOP_CLOCK_SPEED={settings.speed}",
            f"CIVICLOOP_CLOCK_OFFSET_DIR={self.offset_dir}",
        ]
        self.clock_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        clock.configure(settings)

    def is_up(self) -> bool:
        """Whether the stack answers (a run left it running with --keep)."""
        try:
            self.wait_ready(3)
        except RuntimeError:
            return False
        return True

    def start_slow(self, before: datetime, *, fresh: bool) -> None:
        """(Re)start the whole stack on a real-speed clock at `before` (setting up happens then).

        A resumed run whose stack is still up keeps it: its services restart with the new clock.
        """
        if not fresh and self.is_up():
            return
        self.stack("reset" if fresh else "down", check=False)
        self.write_clock(ClockSettings(origin=before, speed=1, started_at=datetime.now(UTC)))
        self.stack("up")

    def restart_clock(self, origin: datetime, speed: float) -> ClockSettings:
        """Restart the service processes so that simulated time is `origin` at one agreed real moment.

        The moment is set a little ahead; if the processes are not all ready by then (a busy machine),
        the restart is repeated with twice the time, so that no simulated hour passes unserved.
        """
        allowance = self.allowance
        for _ in range(4):
            started = datetime.now(UTC) + timedelta(seconds=allowance)
            settings = ClockSettings(origin=origin, speed=speed, started_at=started)
            self.write_clock(settings)
            began = time.monotonic()
            self.ctl("restart", "services:*")
            self.wait_ready(600)
            took = time.monotonic() - began
            if datetime.now(UTC) < started:
                # Nothing happens before the agreed moment: every process then counts from the origin.
                time.sleep(max(0.0, (started - datetime.now(UTC)).total_seconds()))
                self.allowance = max(RESTART_ALLOWANCE_SECONDS, took * 1.5)
                self.allowance_file.write_text(f"{self.allowance:.1f}\n", encoding="utf-8")
                return settings
            allowance = max(allowance, took) * 2
        raise RuntimeError(f"the services of '{self.name}' took too long to restart ({allowance:.0f} s)")

    def wait_ready(self, seconds: float) -> None:
        import requests

        deadline = time.monotonic() + seconds
        urls = [f"http://127.0.0.1:{self.values[f'{s.upper()}_WEB_PORT']}/readyz" for s in SERVICES]
        urls.append(f"{self.gateway_url}/healthz")
        while True:
            try:
                if all(requests.get(url, timeout=2).ok for url in urls):
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the stack '{self.name}' was not ready within {seconds:.0f} s")
            time.sleep(0.5)

    def stop(self) -> None:
        self.stack("down", check=False)


def _read_seconds(path: Path) -> float:
    try:
        return float(path.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return 0.0
