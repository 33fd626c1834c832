"""Event entrypoints of the lifecycle: every later stage's event lands on the request's timeline."""

from __future__ import annotations

from services.common.consumer import HandlerMap
from services.requests.lifecycle.domain import TRACKED_EVENTS
from services.requests.lifecycle.usecases import record_lifecycle_event

HANDLERS: HandlerMap = {(event_type, 1): record_lifecycle_event for event_type in TRACKED_EVENTS}
