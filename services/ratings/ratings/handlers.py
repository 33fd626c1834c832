"""Event entrypoints of the rating stage."""

from __future__ import annotations

from services.common import contracts
from services.common.consumer import HandlerMap
from services.common.events import Envelope
from services.ratings import followups_service, usecases


def on_task_completed(envelope: Envelope, data: contracts.TaskCompleted) -> None:
    """Open the request for rating, then follow it up if it falls in the sample (both idempotent)."""
    usecases.on_task_completed(envelope, data)
    followups_service.on_task_completed(envelope, data)


HANDLERS: HandlerMap = {
    ("task.completed", 1): on_task_completed,
    ("request.cancelled", 1): usecases.on_request_cancelled,
    # Our own event: a low score opens a follow-up, retried by the bus until it is stored.
    ("rating.flagged", 1): followups_service.on_rating_flagged,
}
