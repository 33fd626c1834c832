"""HTTP entrypoints of the organisation: the tree, institutes, stations, teams and their members."""

from __future__ import annotations

from flask import g
from flask_openapi3 import APIBlueprint, Tag

from services.common.auth import Role, require
from services.common.paging import Page, PageQuery, page_of
from services.common.schemas import ERROR_RESPONSES, Problem
from services.volunteers.organisation import usecases
from services.volunteers.organisation.domain import Team
from services.volunteers.organisation.schemas import (
    InstitutePath,
    InstitutePut,
    InstituteQuery,
    InstituteView,
    MemberBody,
    MemberPath,
    MemberView,
    OrganisationView,
    TeamCreate,
    TeamListQuery,
    TeamPatch,
    TeamPath,
    TeamView,
    TeamWithCountsView,
    institute_view,
    member_view,
    organisation_view,
    team_view,
    team_with_counts_view,
)

COMMON = {"abp_security": [{"bearer": []}], "abp_responses": ERROR_RESPONSES}
organisation_api = APIBlueprint(
    "organisation",
    __name__,
    url_prefix="/api/v1/organisation",
    abp_tags=[Tag(name="organisation", description="centre, institutes, stations, teams")],
    **COMMON,
)
teams_api = APIBlueprint(
    "teams", __name__, url_prefix="/api/v1/teams", abp_tags=[Tag(name="teams")], **COMMON
)


# --- centre and institutes -------------------------------------------------------------------------
@organisation_api.get("", responses={200: OrganisationView})
def organisation_tree() -> OrganisationView:
    """The county centre, its 14 township institutes and what each has (anyone signed in)."""
    require()
    return organisation_view(usecases.summary())


@organisation_api.get("/institutes", responses={200: Page[InstituteView]})
def list_institutes(query: InstituteQuery) -> Page[InstituteView]:
    """The township institutes (新时代文明实践所), optionally one township's."""
    require()
    return Page[InstituteView](items=[institute_view(i) for i in usecases.list_institutes(query.township)])


@organisation_api.put("/institutes/<township>", responses={200: InstituteView})
def put_institute(path: InstitutePath, body: InstitutePut) -> InstituteView:
    """Record an institute's name, leader, phone and address (admin)."""
    require(Role.ADMIN)
    return institute_view(usecases.put_institute(path.township, body.model_dump(exclude_none=True)))


# --- teams -----------------------------------------------------------------------------------------
@teams_api.post("", responses={201: TeamView})
def create_team(body: TeamCreate) -> tuple[TeamView, int]:
    """Create a team (admin)."""
    require(Role.ADMIN)
    return team_view(usecases.create_team(body.model_dump(), causation_id=g.request_id)), 201


@teams_api.get("", responses={200: Page[TeamView]})
def list_teams(query: TeamListQuery) -> Page[TeamView]:
    """Teams, by kind and township (anyone signed in)."""
    require()
    found = usecases.list_teams(
        kind=query.kind, township=query.township, limit=query.limit, before=query.before
    )
    return Page[TeamView](**page_of([team_view(t) for t in found], query.limit, key=lambda t: t.id))


@teams_api.get("/<team_id>", responses={200: TeamWithCountsView})
def get_team(path: TeamPath) -> TeamWithCountsView:
    """A team with its parent, coverage, leader and counts (anyone signed in)."""
    require()
    return _with_counts(usecases.get_team(path.team_id))


@teams_api.patch("/<team_id>", responses={200: TeamWithCountsView, 409: Problem})
def update_team(path: TeamPath, body: TeamPatch) -> TeamWithCountsView:
    """Change a team's name, parent, coverage, leader or whether it is active (admin)."""
    require(Role.ADMIN)
    return _with_counts(usecases.update_team(path.team_id, body.model_dump(exclude_unset=True), g.request_id))


@teams_api.get("/<team_id>/members", responses={200: Page[MemberView]})
def list_members(path: TeamPath, query: PageQuery) -> Page[MemberView]:
    """The volunteers of a team (anyone signed in sees names; phones stay with the volunteers API)."""
    require()
    found = usecases.team_members(path.team_id, query.limit, query.before)
    return Page[MemberView](**page_of([member_view(v) for v in found], query.limit, key=lambda m: m.id))


@teams_api.post("/<team_id>/members", responses={201: TeamWithCountsView, 409: Problem})
def add_member(path: TeamPath, body: MemberBody) -> tuple[TeamWithCountsView, int]:
    """Put a volunteer in a team (admin); repeating it changes nothing."""
    require(Role.ADMIN)
    return _with_counts(usecases.add_member(path.team_id, body.volunteer_id, g.request_id)), 201


@teams_api.delete("/<team_id>/members/<volunteer_id>", responses={200: TeamWithCountsView})
def remove_member(path: MemberPath) -> TeamWithCountsView:
    """Take a volunteer out of a team (admin)."""
    require(Role.ADMIN)
    return _with_counts(usecases.remove_member(path.team_id, path.volunteer_id, g.request_id))


@teams_api.get("/<team_id>/sub-teams", responses={200: Page[TeamWithCountsView]})
def list_sub_teams(path: TeamPath, query: PageQuery) -> Page[TeamWithCountsView]:
    """The teams directly under a team."""
    require()
    items = [_with_counts(team) for team in usecases.sub_teams(path.team_id, query.limit, query.before)]
    return Page[TeamWithCountsView](**page_of(items, query.limit, key=lambda t: t.id))


def _with_counts(team: Team) -> TeamWithCountsView:
    return team_with_counts_view(team, usecases.count_sub_teams(team.id))
