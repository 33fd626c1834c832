"""Event entrypoints of pairing."""

from __future__ import annotations

from services.common.consumer import HandlerMap
from services.volunteers.pairing import usecases

HANDLERS: HandlerMap = {
    ("request.submitted", 1): usecases.on_request_submitted,
    ("task.completed", 1): usecases.on_task_completed,
}
