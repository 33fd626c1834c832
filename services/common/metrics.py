"""Process-level metrics every civicloop process exposes (prefix `civicloop_`).

Web processes run several gunicorn workers, so they use prometheus-client's multiprocess mode
(PROMETHEUS_MULTIPROC_DIR); a worker process is a single process and serves its own registry.
Labels stay bounded: service, route template, event type, township, category — never an id.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

HTTP_REQUESTS = Counter(
    "civicloop_http_requests_total",
    "HTTP requests answered, by route template and status.",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "civicloop_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS_PUBLISHED = Counter(
    "civicloop_events_published_total",
    "Events the broker confirmed, by type.",
    ["service", "type"],
)
EVENTS_CONSUMED = Counter(
    "civicloop_events_consumed_total",
    "Events a worker took off its queue, by outcome (handled, duplicate, retried, dead_lettered).",
    ["service", "type", "outcome"],
)
HANDLER_SECONDS = Histogram(
    "civicloop_event_handler_seconds",
    "Time a handler took, including its database writes.",
    ["service", "type"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)
OUTBOX_BACKLOG = Gauge(
    "civicloop_outbox_backlog",
    "Documents with events not yet confirmed by the broker.",
    ["service"],
    multiprocess_mode="max",
)
OUTBOX_OLDEST_SECONDS = Gauge(
    "civicloop_outbox_oldest_event_age_seconds",
    "Age of the oldest event still waiting in the outbox.",
    ["service"],
    multiprocess_mode="max",
)
DEAD_LETTERS = Gauge(
    "civicloop_dead_letters",
    "Messages waiting in the service's dead-letter queue.",
    ["service"],
    multiprocess_mode="max",
)
DEPENDENCY_UP = Gauge(
    "civicloop_dependency_up",
    "Whether the process reached its broker or database at the last check (1) or not (0).",
    ["service", "dependency"],
    # Only live gunicorn workers' answers count: a dead worker's last value must not linger.
    multiprocess_mode="livemax",
)


def registry_for_scrape() -> CollectorRegistry:
    """The registry to expose: merged across gunicorn workers when multiprocess mode is on."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def render_latest() -> tuple[bytes, str]:
    """The text exposition of every metric of this process (or process group)."""
    return generate_latest(registry_for_scrape()), CONTENT_TYPE_LATEST


EVENTS_REDELIVERED = Counter(
    "civicloop_events_redelivered_total",
    "Deliveries the broker flagged as redelivered: a worker or its connection died holding them.",
    ["service"],
)
