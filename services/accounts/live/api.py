"""HTTP entrypoint of live changes: one server-sent event stream per open console page."""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Iterator
from typing import Any

from flask import Response, current_app, request
from flask_openapi3 import APIBlueprint, Tag

from services.accounts.live.schemas import EVENT_STREAM
from services.accounts.live.usecases import LiveHub, Subscriber, TooManyStreams
from services.accounts.metrics import LIVE_CONNECTIONS
from services.accounts.sessions import usecases as sessions
from services.accounts.sessions.domain import SessionRefused
from services.accounts.sessions.schemas import LIVE_COOKIE, LIVE_PATH
from services.common.errors import ServiceUnavailable, Unauthorized
from services.common.schemas import ERROR_RESPONSES, Problem

live_api = APIBlueprint(
    "live",
    __name__,
    url_prefix=LIVE_PATH,
    abp_tags=[Tag(name="live", description="实时更新")],
    abp_responses=ERROR_RESPONSES,
)
HUB = "civicloop.live"
# How often an open stream asks whether its session still goes on.
SESSION_RECHECK_SECONDS = 10.0


def _frame(event: str, data: dict[str, Any], event_id: str | None = None) -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _stream(hub: LiveHub, subscriber: Subscriber, heartbeat: float) -> Iterator[str]:
    session_id = subscriber.principal.session_id
    LIVE_CONNECTIONS.inc()
    try:
        yield "retry: 3000\n\n"
        yield _frame("ready", {"role": str(subscriber.principal.role)})
        checked = time.monotonic()
        while True:
            try:
                notice = subscriber.notices.get(timeout=min(heartbeat, SESSION_RECHECK_SECONDS))
                yield _frame("change", notice, notice["id"])
            except queue.Empty:
                yield ": keep-alive\n\n"
            if time.monotonic() - checked >= SESSION_RECHECK_SECONDS:
                checked = time.monotonic()
                if session_id is None or not sessions.session_active(session_id):
                    yield _frame("ended", {"reason": "the session has ended"})
                    return
    finally:
        hub.unsubscribe(subscriber)
        LIVE_CONNECTIONS.dec()


@live_api.get("/stream", responses={200: EVENT_STREAM, 401: Problem, 503: Problem})
def stream() -> Response:
    """Changes the caller may see, as they happen (EventSource: send the login's cookies)."""
    cookie = request.cookies.get(LIVE_COOKIE)
    if not cookie:
        raise Unauthorized("log in first: the stream needs the session's live cookie")
    try:
        principal = sessions.live_principal(cookie)
    except SessionRefused as refusal:
        raise Unauthorized(str(refusal)) from None
    hub: LiveHub = current_app.extensions[HUB]
    try:
        subscriber = hub.subscribe(principal)
    except TooManyStreams:
        raise ServiceUnavailable("this server holds as many live streams as it can; retrying soon") from None
    settings = current_app.config["CIVICLOOP_SETTINGS"]
    return Response(
        _stream(hub, subscriber, settings.live_heartbeat_seconds),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
