"""The dispatch engine's own metrics: what it decided, how long deciding took, what expired."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Histogram

from services.common import contracts

DECISIONS = Counter(
    "civicloop_dispatch_decisions_total",
    "Dispatch decisions by outcome: an offer at a cascade level, or the pool / a dispatcher.",
    ["township", "outcome"],
)
DECISION_SECONDS = Histogram(
    "civicloop_dispatch_decision_seconds",
    "Time to make one decision (shortlist, fresh read of the shortlist, eligibility, scoring).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
EXPIRIES = Counter(
    "civicloop_dispatch_offer_expiries_total", "Offers taken back at their deadline.", ["township"]
)


@contextmanager
def timed() -> Iterator[None]:
    """Measure one decision."""
    started = time.perf_counter()
    try:
        yield
    finally:
        DECISION_SECONDS.observe(time.perf_counter() - started)


def count(township: str, events: list[contracts.EventData]) -> None:
    """Count what a decision produced."""
    for event in events:
        if isinstance(event, contracts.TaskOffered):
            DECISIONS.labels(township, event.level).inc()
        elif isinstance(event, contracts.RequestEscalated):
            DECISIONS.labels(township, "escalated").inc()
        elif isinstance(event, contracts.RequestPooled):
            DECISIONS.labels(township, "pooled").inc()
