"""HTTP entrypoints of volunteers: registration, profiles and the staff's list."""

from __future__ import annotations

from flask import g
from flask_openapi3 import APIBlueprint, Tag

from services.common.auth import STAFF, Principal, Role, require, township_scope
from services.common.errors import NotFound
from services.common.paging import Page, page_of
from services.common.schemas import ERROR_RESPONSES
from services.volunteers.people import usecases
from services.volunteers.people.domain import Volunteer
from services.volunteers.people.schemas import (
    VolunteerCreate,
    VolunteerListQuery,
    VolunteerPatch,
    VolunteerPath,
    VolunteerView,
    volunteer_view,
)

volunteers_api = APIBlueprint(
    "volunteers",
    __name__,
    url_prefix="/api/v1/volunteers",
    abp_tags=[Tag(name="volunteers")],
    abp_security=[{"bearer": []}],
    abp_responses=ERROR_RESPONSES,
)


def self_or_staff(volunteer_id: str) -> tuple[Principal, Volunteer]:
    """The caller and the volunteer: themselves, or staff covering their township; others learn nothing."""
    principal = require()
    volunteer = usecases.find_volunteer(volunteer_id)
    if volunteer is None or not (
        principal.sub == volunteer.id or principal.covers_township(volunteer.township)
    ):
        raise NotFound("no volunteer with that id")
    return principal, volunteer


@volunteers_api.post("", responses={201: VolunteerView})
def register_volunteer(body: VolunteerCreate) -> tuple[VolunteerView, int]:
    """Register a volunteer (admin)."""
    principal = require(Role.ADMIN)
    volunteer = usecases.register_volunteer(body.model_dump(), causation_id=g.request_id)
    return volunteer_view(volunteer, principal), 201


@volunteers_api.get("", responses={200: Page[VolunteerView]})
def list_volunteers(query: VolunteerListQuery) -> Page[VolunteerView]:
    """Volunteers, filtered by township, skill and whether active (staff; township staff see theirs)."""
    principal = require(*STAFF)
    found = usecases.list_volunteers(
        township=township_scope(principal, query.township, "volunteers"),
        skill=query.skill,
        active=query.active,
        limit=query.limit,
        before=query.before,
    )
    items = [volunteer_view(volunteer, principal) for volunteer in found]
    return Page[VolunteerView](**page_of(items, query.limit, key=lambda v: v.id))


@volunteers_api.get("/<volunteer_id>", responses={200: VolunteerView})
def get_volunteer(path: VolunteerPath) -> VolunteerView:
    """A volunteer's profile (themselves, or staff covering their township)."""
    principal, volunteer = self_or_staff(path.volunteer_id)
    return volunteer_view(volunteer, principal)


@volunteers_api.patch("/<volunteer_id>", responses={200: VolunteerView})
def update_volunteer(path: VolunteerPath, body: VolunteerPatch) -> VolunteerView:
    """Change a volunteer's profile (admin)."""
    principal = require(Role.ADMIN)
    changes = body.model_dump(exclude_unset=True)
    volunteer = usecases.update_volunteer(path.volunteer_id, changes, causation_id=g.request_id)
    return volunteer_view(volunteer, principal)
