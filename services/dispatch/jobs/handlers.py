"""Event entrypoints of the dispatching stage."""

from __future__ import annotations

from services.common.consumer import HandlerMap
from services.dispatch import usecases

HANDLERS: HandlerMap = {
    ("request.submitted", 1): usecases.on_request_submitted,
    ("request.cancelled", 1): usecases.on_request_cancelled,
    ("task.offered", 1): usecases.on_task_offered,
    ("task.accepted", 1): usecases.on_task_accepted,
    ("task.declined", 1): usecases.on_task_declined,
    ("task.checked_in", 1): usecases.on_task_checked_in,
    ("task.completed", 1): usecases.on_task_completed,
    ("volunteer.registered", 1): usecases.on_volunteer_snapshot,
    ("volunteer.updated", 1): usecases.on_volunteer_snapshot,
    ("team.updated", 1): usecases.on_team_updated,
    ("request.rated", 1): usecases.on_request_rated,
}
