"""The live stream as the OpenAPI document describes it (server-sent events)."""

from __future__ import annotations

from typing import Any

EVENT_STREAM: dict[str, Any] = {
    "description": (
        "Server-sent events (text/event-stream). First `event: ready`; then `event: change` with "
        'data {"id", "type", "request_id", "task_id", "township", "at"} whenever something the caller '
        "may see changed (re-read it through the API); `: keep-alive` comments every 15 s; "
        "`event: ended` when the session ends. Authenticated by the `civicloop_live` cookie the login set."
    ),
    "content": {"text/event-stream": {"schema": {"type": "string"}}},
}
