"""Event entrypoints of the task inbox."""

from __future__ import annotations

from services.common.consumer import HandlerMap
from services.volunteers.tasks import usecases

HANDLERS: HandlerMap = {
    ("task.offered", 1): usecases.receive_offer,
    ("request.cancelled", 1): usecases.on_request_cancelled,
    ("request.rated", 1): usecases.on_request_rated,
}
