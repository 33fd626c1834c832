"""Event entrypoints of the read-model: profiles, offers and ratings of volunteers and teams."""

from __future__ import annotations

from services.common.consumer import HandlerMap
from services.dispatch.candidates import usecases

HANDLERS: HandlerMap = {
    ("volunteer.registered", 1): usecases.on_volunteer_snapshot,
    ("volunteer.updated", 1): usecases.on_volunteer_snapshot,
    ("team.updated", 1): usecases.on_team_updated,
    ("task.offered", 1): usecases.on_task_offered,
    ("request.rated", 1): usecases.on_request_rated,
}
