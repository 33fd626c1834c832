"""HTTP entrypoint of the read-model: what dispatch knows of one volunteer (staff)."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from services.common.auth import STAFF, require
from services.common.errors import NotFound
from services.common.schemas import ERROR_RESPONSES
from services.dispatch.candidates import usecases
from services.dispatch.candidates.schemas import VolunteerPath, VolunteerView, volunteer_view

candidates_api = APIBlueprint(
    "dispatch_candidates",
    __name__,
    url_prefix="/api/v1/dispatch",
    abp_tags=[Tag(name="dispatch", description="派单")],
    abp_security=[{"bearer": []}],
    abp_responses=ERROR_RESPONSES,
)


@candidates_api.get("/volunteers/<volunteer_id>", responses={200: VolunteerView})
def get_volunteer_view(path: VolunteerPath) -> VolunteerView:
    """What dispatch knows of a volunteer: profile, availability, load, history (staff)."""
    principal = require(*STAFF)
    found = usecases.volunteer(path.volunteer_id)
    if found is None or not principal.covers_township(found[1].township):
        raise NotFound("dispatch knows no volunteer with that id")
    return volunteer_view(*found)
