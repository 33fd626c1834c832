"""Prometheus metrics of the accounts service; labels never carry a person (no names, ids or phones)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

LOGINS = Counter(
    "civicloop_logins_total",
    "Login attempts by method (password, code, refresh) and outcome.",
    ["method", "outcome"],
)
LOCKOUTS = Counter(
    "civicloop_account_lockouts_total",
    "Logins locked after repeated wrong passwords (per login name, existing or not).",
)
CODES = Counter(
    "civicloop_login_codes_total",
    "One-time login codes by outcome (issued, rate_limited).",
    ["outcome"],
)
SESSIONS_REVOKED = Counter(
    "civicloop_sessions_revoked_total",
    "Sessions ended by logout, by an administrator or by a reused refresh token.",
    ["reason"],
)
NOTIFICATIONS = Counter(
    "civicloop_notifications_sent_total",
    "Notifications by channel and outcome (sent, recorded in the dev inbox, failed, unknown, skipped).",
    ["channel", "outcome"],
)
LIVE_CONNECTIONS = Gauge(
    "civicloop_live_connections",
    "Server-sent event streams open now.",
    multiprocess_mode="livesum",
)
