"""Event entrypoints of the rating stage."""

from __future__ import annotations

from services.common.consumer import HandlerMap
from services.ratings import usecases

HANDLERS: HandlerMap = {
    ("task.completed", 1): usecases.on_task_completed,
    ("request.cancelled", 1): usecases.on_request_cancelled,
}
