"""Event entrypoints of the accepting stage."""

from __future__ import annotations

from services.common.consumer import HandlerMap
from services.volunteers import pool, usecases

HANDLERS: HandlerMap = {
    ("task.offered", 1): usecases.receive_offer,
    ("request.cancelled", 1): usecases.on_request_cancelled,
    ("request.rated", 1): usecases.on_request_rated,
    ("task.completed", 1): usecases.on_task_completed,
    ("request.pooled", 1): pool.on_request_pooled,
}
