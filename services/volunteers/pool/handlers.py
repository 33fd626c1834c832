"""Event entrypoints of the claim pool."""

from __future__ import annotations

from services.common.consumer import HandlerMap
from services.volunteers.pool import usecases

HANDLERS: HandlerMap = {
    ("request.pooled", 1): usecases.on_request_pooled,
    ("request.cancelled", 1): usecases.on_request_cancelled,
}
