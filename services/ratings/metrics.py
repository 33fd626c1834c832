"""Prometheus metrics of the ratings stage (the bus and HTTP ones live in services.common.metrics)."""

from __future__ import annotations

from prometheus_client import Gauge

OPEN_FOLLOWUPS = Gauge(
    "civicloop_followups_open",
    "Follow-ups (回访) waiting for the township's staff, by township.",
    ["township"],
    multiprocess_mode="max",
)
