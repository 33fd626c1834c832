"""Event entrypoints of the requests stage: every lifecycle event lands on the request's timeline."""

from __future__ import annotations

from services.common.consumer import HandlerMap
from services.requests.domain import TRACKED_EVENTS
from services.requests.usecases import record_lifecycle_event

HANDLERS: HandlerMap = {(event_type, 1): record_lifecycle_event for event_type in TRACKED_EVENTS}
