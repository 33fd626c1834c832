"""HTTP entrypoints of the organisation: institutes, the tree, stations, teams and their members."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from flask import g
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field

from services.common.auth import Role, require
from services.common.county import Township
from services.common.paging import PageQuery
from services.common.schemas import ERROR_RESPONSES, StrictBody
from services.volunteers.organisation import usecases as service

COMMON = {"abp_security": [{"bearer": []}], "abp_responses": ERROR_RESPONSES}
organisation_api = APIBlueprint(
    "organisation",
    __name__,
    url_prefix="/api/v1/organisation",
    abp_tags=[Tag(name="organisation", description="centre, institutes, stations, teams")],
    **COMMON,
)
station_admin_api = APIBlueprint(
    "station_admin", __name__, url_prefix="/api/v1/stations", abp_tags=[Tag(name="stations")], **COMMON
)
team_admin_api = APIBlueprint(
    "team_admin", __name__, url_prefix="/api/v1/teams", abp_tags=[Tag(name="teams")], **COMMON
)
ORGANISATION_BLUEPRINTS = (organisation_api, station_admin_api, team_admin_api)


class InstituteQuery(BaseModel):
    township: Township | None = None


class InstitutePath(BaseModel):
    township: Township


class InstitutePut(StrictBody):
    name: str | None = Field(None, min_length=1, max_length=80)
    leader_name: str | None = Field(None, max_length=50)
    phone: str | None = Field(None, pattern=r"^\+?[0-9][0-9 -]{4,19}$")
    address: str | None = Field(None, max_length=200)


class StationPath(BaseModel):
    station_id: str = Field(min_length=1, max_length=64)


class StationPatch(StrictBody):
    name: str | None = Field(None, min_length=1, max_length=80)
    township: Township | None = None
    kind: Literal["village", "community", "family_education"] | None = None


class TeamPath(BaseModel):
    team_id: str = Field(min_length=1, max_length=64)


class MemberPath(BaseModel):
    team_id: str = Field(min_length=1, max_length=64)
    volunteer_id: str = Field(min_length=1, max_length=64)


class TeamPatch(StrictBody):
    name: str | None = Field(None, min_length=1, max_length=80)
    parent_id: str | None = Field(None, max_length=64)
    townships: list[Township] | None = None
    categories: list[str] | None = Field(None, max_length=20)
    leader_id: str | None = Field(None, max_length=64)
    active: bool | None = None


class MemberBody(StrictBody):
    volunteer_id: str = Field(min_length=1, max_length=64)


# --- centre and institutes -------------------------------------------------------------------------
@organisation_api.get("")
def organisation_tree() -> dict[str, Any]:
    """The county centre, its 14 township institutes and what each has (anyone signed in)."""
    require()
    return service.tree()


@organisation_api.get("/institutes")
def list_institutes(query: InstituteQuery) -> dict[str, Any]:
    """The township institutes (新时代文明实践所), optionally one township's."""
    require()
    return {"items": [asdict(i) for i in service.list_institutes(query.township)], "next_before": None}


@organisation_api.put("/institutes/<township>")
def put_institute(path: InstitutePath, body: InstitutePut) -> dict[str, Any]:
    """Record an institute's name, leader, phone and address (admin)."""
    require(Role.ADMIN)
    return asdict(service.put_institute(path.township, body.model_dump(exclude_none=True)))


# --- stations --------------------------------------------------------------------------------------
@station_admin_api.get("/<station_id>")
def get_station(path: StationPath) -> dict[str, Any]:
    """One station (anyone signed in)."""
    require()
    return _station(service.get_station(path.station_id))


@station_admin_api.patch("/<station_id>")
def update_station(path: StationPath, body: StationPatch) -> dict[str, Any]:
    """Rename a station, move it or change its kind (admin)."""
    require(Role.ADMIN)
    return _station(service.update_station(path.station_id, body.model_dump(exclude_unset=True)))


def _station(document: dict[str, Any]) -> dict[str, Any]:
    return {"id": document["_id"], **{k: document.get(k) for k in ("code", "name", "township", "kind")}}


# --- teams -----------------------------------------------------------------------------------------
@team_admin_api.get("/<team_id>")
def get_team(path: TeamPath) -> dict[str, Any]:
    """A team with its parent, coverage, leader and counts (anyone signed in)."""
    require()
    return service.team_view(service.get_team(path.team_id))


@team_admin_api.patch("/<team_id>")
def update_team(path: TeamPath, body: TeamPatch) -> dict[str, Any]:
    """Change a team's name, parent, coverage, leader or whether it is active (admin)."""
    require(Role.ADMIN)
    team = service.update_team(path.team_id, body.model_dump(exclude_unset=True), g.request_id)
    return service.team_view(team)


@team_admin_api.get("/<team_id>/members")
def list_members(path: TeamPath, query: PageQuery) -> dict[str, Any]:
    """The volunteers of a team (anyone signed in sees names; phones stay with the volunteers API)."""
    require()
    found = service.team_members(path.team_id, query.limit, query.before)
    items = [
        {"id": v.id, "name": v.name, "township": v.township, "skills": v.skills, "active": v.active}
        for v in found
    ]
    return {"items": items, "next_before": items[-1]["id"] if len(items) == query.limit else None}


@team_admin_api.post("/<team_id>/members")
def add_member(path: TeamPath, body: MemberBody) -> tuple[dict[str, Any], int]:
    """Put a volunteer in a team (admin); repeating it changes nothing."""
    require(Role.ADMIN)
    return service.team_view(service.add_member(path.team_id, body.volunteer_id, g.request_id)), 201


@team_admin_api.delete("/<team_id>/members/<volunteer_id>")
def remove_member(path: MemberPath) -> dict[str, Any]:
    """Take a volunteer out of a team (admin)."""
    require(Role.ADMIN)
    return service.team_view(service.remove_member(path.team_id, path.volunteer_id, g.request_id))


@team_admin_api.get("/<team_id>/sub-teams")
def list_sub_teams(path: TeamPath, query: PageQuery) -> dict[str, Any]:
    """The teams directly under a team."""
    require()
    items = [service.team_view(team) for team in service.sub_teams(path.team_id, query.limit, query.before)]
    return {"items": items, "next_before": items[-1]["id"] if len(items) == query.limit else None}
