"""HTTP entrypoints of the dispatching stage."""

from __future__ import annotations

from typing import Any

from flask_openapi3 import APIBlueprint, Tag

from services.common.auth import STAFF, require
from services.common.errors import NotFound
from services.common.schemas import ERROR_RESPONSES
from services.dispatch import usecases
from services.dispatch.schemas import JobPath, VolunteerPath

dispatch_api = APIBlueprint(
    "dispatch",
    __name__,
    url_prefix="/api/v1/dispatch",
    abp_tags=[Tag(name="dispatch", description="派单")],
    abp_security=[{"bearer": []}],
    abp_responses=ERROR_RESPONSES,
)


@dispatch_api.get("/<request_id>")
def get_dispatch(path: JobPath) -> dict[str, Any]:
    """Why a request went where it went: every attempt and the candidates weighed (staff)."""
    principal = require(*STAFF)
    job = usecases.get_job(path.request_id)
    if not principal.covers_township(job.township):
        raise NotFound("no dispatch record for that request")
    return usecases.present_job(job)


@dispatch_api.get("/volunteers/<volunteer_id>")
def get_volunteer_view(path: VolunteerPath) -> dict[str, Any]:
    """What dispatch knows of a volunteer: profile, load and open tasks (staff)."""
    principal = require(*STAFF)
    view = usecases.volunteer_view(path.volunteer_id)
    if view is None or not principal.covers_township(view["township"]):
        raise NotFound("dispatch knows no volunteer with that id")
    return view
