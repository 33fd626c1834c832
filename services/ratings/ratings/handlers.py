"""Event entrypoints of ratings: a completed task opens its request for rating; a cancellation closes it."""

from __future__ import annotations

from services.common.consumer import HandlerMap
from services.ratings.ratings import usecases

HANDLERS: HandlerMap = {
    ("task.completed", 1): usecases.on_task_completed,
    ("request.cancelled", 1): usecases.on_request_cancelled,
}
