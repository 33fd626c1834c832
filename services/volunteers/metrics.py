"""Prometheus metrics of the volunteers stage (the bus and HTTP ones live in services.common.metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

PAIRING_VISITS = Gauge(
    "civicloop_pairing_visits",
    "Pairing visits by township and status (due, requested, done, missed).",
    ["township", "status"],
    multiprocess_mode="max",
)

VISITS_MISSED = Counter(
    "civicloop_pairing_visits_missed_total",
    "Pairing visits flagged missed: not done by their due time plus grace.",
    ["township"],
)

VISITS_DUE = Counter("civicloop_pairing_visits_due_total", "Pairing visits that fell due.", ["township"])
