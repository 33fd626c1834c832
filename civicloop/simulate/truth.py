"""The simulator's own record of what it did: every order and every step, saved so a run can resume."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from civicloop.simulate.world import World

TERMINAL = frozenset({"closed", "cancelled", "rejected", "filed", "settled"})


@dataclass
class Order:
    """One thing a person started (an order, a lecture, a patrol report, a wish, a pairing visit)."""

    key: str
    kind: str
    category: str
    township: str
    village: str
    urgency: str
    orderer: str
    orderer_role: str
    planned_at: float
    tier: str | None = None
    request_id: str | None = None
    report_id: str | None = None
    submitted_at: float | None = None
    phase: str = "planned"
    next_at: float = 0.0
    waiting_since: float | None = None
    task_id: str | None = None
    volunteer_id: str | None = None
    team_id: str | None = None
    handled: list[str] = field(default_factory=list)
    plan: dict[str, Any] = field(default_factory=dict)
    completions: int = 0
    hours: float = 0.0
    participants: int = 0
    people_served: int = 0
    score: int | None = None
    outcome: str | None = None
    steps: list[tuple[float, str, str]] = field(default_factory=list)

    def note(self, at: float, what: str, detail: str = "") -> None:
        """Add a step to the order's story."""
        self.steps.append((round(at, 1), what, detail[:200]))

    @property
    def done(self) -> bool:
        return self.outcome in TERMINAL


@dataclass
class Truth:
    """Everything the simulator knows and did; the file it saves and resumes from."""

    scenario: str
    seed: int
    days: int
    speed: float
    origin: float  # simulated POSIX seconds at the start of day 1
    reached: float = 0.0  # simulated time the run had reached when last saved
    next_arrival: int = 0
    world: World = field(default_factory=World)
    orders: dict[str, Order] = field(default_factory=dict)
    faults: list[dict[str, Any]] = field(default_factory=list)
    followups_resolved: int = 0
    visits_seen: list[str] = field(default_factory=list)
    real_seconds: float = 0.0
    lateness: list[float] = field(default_factory=list)
    finished: bool = False

    def save(self, path: Path) -> None:
        """Write the state atomically (a Ctrl-C mid-write leaves the previous file whole)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self), ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: Path) -> Truth:
        """The state a run saved."""
        raw = json.loads(path.read_text(encoding="utf-8"))
        known = {f.name for f in fields(Order)}
        raw["orders"] = {
            key: Order(**{k: v for k, v in order.items() if k in known})
            for key, order in raw["orders"].items()
        }
        for order in raw["orders"].values():
            order.steps = [tuple(step) for step in order.steps]
        raw["world"] = World(**raw["world"])
        return cls(**raw)
