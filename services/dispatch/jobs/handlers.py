"""Event entrypoints of a request's dispatch: its submission and cancellation, and the answers to offers."""

from __future__ import annotations

from services.common.consumer import HandlerMap
from services.dispatch.jobs import usecases

HANDLERS: HandlerMap = {
    ("request.submitted", 1): usecases.on_request_submitted,
    ("request.cancelled", 1): usecases.on_request_cancelled,
    ("task.accepted", 1): usecases.on_task_accepted,
    ("task.declined", 1): usecases.on_task_declined,
    ("task.checked_in", 1): usecases.on_task_checked_in,
    ("task.completed", 1): usecases.on_task_completed,
}
