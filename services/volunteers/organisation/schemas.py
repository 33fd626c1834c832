"""Bodies, queries and views of the organisation API; they double as its OpenAPI document."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from services.common.county import Township
from services.common.paging import PageQuery
from services.common.schemas import Phone, StrictBody, View, refuse_null
from services.volunteers.organisation.domain import (
    CENTRE,
    Institute,
    OrganisationSummary,
    Team,
    TeamKind,
)
from services.volunteers.people.domain import Volunteer


# --- teams -----------------------------------------------------------------------------------------
class TeamCreate(StrictBody):
    name: str = Field(min_length=1, max_length=80)
    kind: TeamKind
    parent_id: str | None = Field(None, max_length=64)
    townships: list[Township] = Field(default_factory=list)
    station_id: str | None = Field(None, max_length=64, description="a team based at one station")
    categories: list[str] = Field(default_factory=list, max_length=20)
    leader_id: str | None = Field(None, max_length=64)
    member_ids: list[str] = Field(default_factory=list, max_length=500)


class TeamPatch(StrictBody):
    name: str | None = Field(None, min_length=1, max_length=80)
    parent_id: str | None = Field(None, max_length=64)
    townships: list[Township] | None = None
    station_id: str | None = Field(None, max_length=64, description="a team based at one station")
    categories: list[str] | None = Field(None, max_length=20)
    leader_id: str | None = Field(None, max_length=64)
    active: bool | None = None

    _kept = refuse_null("name", "townships", "categories", "active")


class TeamListQuery(PageQuery):
    kind: TeamKind | None = None
    township: Township | None = None


class TeamPath(BaseModel):
    team_id: str = Field(min_length=1, max_length=64)


class MemberPath(BaseModel):
    team_id: str = Field(min_length=1, max_length=64)
    volunteer_id: str = Field(min_length=1, max_length=64)


class MemberBody(StrictBody):
    volunteer_id: str = Field(min_length=1, max_length=64)


class TeamView(View):
    """A team: its place in the hierarchy, what and where it covers, who leads it and who is in it."""

    id: str
    name: str
    kind: TeamKind
    created_at: datetime
    parent_id: str | None
    townships: list[Township]
    station_id: str | None
    categories: list[str]
    leader_id: str | None
    member_ids: list[str]
    active: bool
    profile_version: int


class TeamWithCountsView(TeamView):
    """A team with how many teams sit directly under it and how many members it has."""

    sub_teams: int
    members: int


def team_view(team: Team) -> TeamView:
    """The team as stored, without its internals."""
    return TeamView(
        id=team.id,
        name=team.name,
        kind=team.kind,
        created_at=team.created_at,
        parent_id=team.parent_id,
        townships=team.townships,
        station_id=team.station_id,
        categories=team.categories,
        leader_id=team.leader_id,
        member_ids=team.member_ids,
        active=team.active,
        profile_version=team.profile_version,
    )


def team_with_counts_view(team: Team, sub_teams: int) -> TeamWithCountsView:
    """The team with its counts."""
    return TeamWithCountsView(
        **team_view(team).model_dump(), sub_teams=sub_teams, members=len(team.member_ids)
    )


class MemberView(View):
    """A team member as anyone signed in sees them (phones stay with the volunteers API)."""

    id: str
    name: str
    township: Township
    skills: list[str]
    active: bool


def member_view(volunteer: Volunteer) -> MemberView:
    """A volunteer as a member of a team."""
    return MemberView(
        id=volunteer.id,
        name=volunteer.name,
        township=volunteer.township,
        skills=volunteer.skills,
        active=volunteer.active,
    )


# --- institutes and the tree -----------------------------------------------------------------------
class InstituteQuery(BaseModel):
    township: Township | None = None


class InstitutePath(BaseModel):
    township: Township


class InstitutePut(StrictBody):
    name: str | None = Field(None, min_length=1, max_length=80)
    leader_name: str | None = Field(None, max_length=50)
    phone: Phone | None = None
    address: str | None = Field(None, max_length=200)


class InstituteView(View):
    """A township institute (新时代文明实践所) and what staff recorded about it."""

    township: Township
    name: str
    leader_name: str | None
    phone: str | None
    address: str | None


def institute_view(institute: Institute) -> InstituteView:
    """An institute as recorded (defaults where nothing is)."""
    return InstituteView(
        township=institute.township,
        name=institute.name,
        leader_name=institute.leader_name,
        phone=institute.phone,
        address=institute.address,
    )


class CentreView(View):
    id: str
    kind: str
    name: str
    name_en: str


class StationCountsView(View):
    village: int
    community: int
    family_education: int


class InstituteCountsView(InstituteView):
    """An institute with its stations by kind, the teams covering its township and its volunteers."""

    stations: StationCountsView
    teams: int
    volunteers: int


class TeamCountsView(View):
    county_corps: int
    standing: int
    sub_team: int
    lecture_brand: int


class OrganisationTotalsView(View):
    institutes: int
    practice_stations: int
    family_education_stations: int
    teams: TeamCountsView
    volunteers: int


class OrganisationView(View):
    """The county centre, its township institutes with their counts, and the county's totals."""

    centre: CentreView
    institutes: list[InstituteCountsView]
    totals: OrganisationTotalsView


def organisation_view(summary: OrganisationSummary) -> OrganisationView:
    """The tree from its summary."""
    return OrganisationView(
        centre=CentreView(**CENTRE),
        institutes=[
            InstituteCountsView(
                **institute_view(row.institute).model_dump(),
                stations=StationCountsView(**row.stations),
                teams=row.teams,
                volunteers=row.volunteers,
            )
            for row in summary.institutes
        ],
        totals=OrganisationTotalsView(
            institutes=len(summary.institutes),
            practice_stations=summary.practice_stations,
            family_education_stations=summary.family_education_stations,
            teams=TeamCountsView(**summary.teams),
            volunteers=summary.volunteers,
        ),
    )
