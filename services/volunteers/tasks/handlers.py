"""Event entrypoints of the accepting stage."""

from __future__ import annotations

from services.common import contracts
from services.common.consumer import HandlerMap
from services.common.events import Envelope
from services.volunteers.pairing import usecases as pairing_service
from services.volunteers.pool import usecases as pool
from services.volunteers.tasks import usecases


def on_task_completed(envelope: Envelope, data: contracts.TaskCompleted) -> None:
    """Credit the hours, then close the pairing visit the task served, if any (both idempotent)."""
    usecases.on_task_completed(envelope, data)
    pairing_service.on_task_completed(envelope, data)


HANDLERS: HandlerMap = {
    ("task.offered", 1): usecases.receive_offer,
    ("request.cancelled", 1): usecases.on_request_cancelled,
    ("request.rated", 1): usecases.on_request_rated,
    ("task.completed", 1): on_task_completed,
    ("request.submitted", 1): pairing_service.on_request_submitted,
    ("request.pooled", 1): pool.on_request_pooled,
}
