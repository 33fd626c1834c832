"""Event entrypoints of the requests stage: every lifecycle event lands on the request's timeline."""

from __future__ import annotations

from services.common.consumer import HandlerMap
from services.requests.lifecycle.domain import TRACKED_EVENTS
from services.requests.orders.usecases import record_lifecycle_event
from services.requests.pairing.handlers import on_pairing_visit_due

HANDLERS: HandlerMap = {(event_type, 1): record_lifecycle_event for event_type in TRACKED_EVENTS}
# A pairing visit (结对帮扶) that fell due becomes an order for the paired volunteers.
HANDLERS = {**HANDLERS, ("pairing.visit_due", 1): on_pairing_visit_due}
