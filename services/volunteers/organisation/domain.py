"""Rules of the county's organisation: centre → township institutes → stations; teams and members.

Pure: no I/O. The county centre and its 14 township institutes are fixed by the county (the
townships are a closed list); stations and teams hang under them (docs/adr/0050).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args

from services.common import contracts
from services.common.county import COUNTY, TOWNSHIPS
from services.common.domain import DomainError, StateConflict
from services.volunteers.people.domain import Volunteer, snapshot
from services.volunteers.stations.domain import StationKind

TeamKind = Literal["county_corps", "standing", "sub_team", "lecture_brand"]
TEAM_KINDS: tuple[str, ...] = get_args(TeamKind)

CENTRE = {
    "id": "centre",
    "kind": "county_centre",
    "name": f"{COUNTY}新时代文明实践中心",
    "name_en": "Gutian County New Era Civilization Practice Centre",
}
# Which kinds of team may sit under which: the corps at the top, brand teams under standing teams.
ALLOWED_PARENTS = {
    "county_corps": (),
    "standing": ("county_corps",),
    "sub_team": ("standing", "county_corps"),
    "lecture_brand": ("standing", "county_corps"),
}
TEAM_UPDATABLE = ("name", "parent_id", "townships", "categories", "leader_id", "active", "station_id")


class CycleInTeams(StateConflict):
    """A team cannot sit under itself or under one of its own sub-teams."""


# --- teams -----------------------------------------------------------------------------------------
@dataclass
class Team:
    """A volunteer team: the county corps, a standing team, a sub-team or a lecture brand team."""

    id: str
    name: str
    kind: str
    created_at: datetime
    parent_id: str | None = None
    townships: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    leader_id: str | None = None
    member_ids: list[str] = field(default_factory=list)
    active: bool = True
    profile_version: int = 1
    version: int = 1
    # A team based at one station (a village's own team), by the station's id.
    station_id: str | None = None


def create_team(team: Team) -> list[contracts.EventData]:
    """A new team announces itself with its coverage."""
    if team.kind not in TEAM_KINDS:
        raise DomainError(f"kind must be one of {', '.join(TEAM_KINDS)}", field="kind")
    if team.kind != "county_corps" and team.parent_id is None:
        raise DomainError("every team but the county corps belongs to a parent team", field="parent_id")
    return [team_snapshot(team)]


def team_snapshot(team: Team) -> contracts.TeamUpdated:
    """The whole team, as others keep it."""
    return contracts.TeamUpdated(
        team_id=team.id,
        name=team.name,
        kind=team.kind,
        parent_id=team.parent_id,
        townships=team.townships,
        station_id=team.station_id,
        categories=team.categories,
        leader_id=team.leader_id,
        member_ids=team.member_ids,
        active=team.active,
        profile_version=team.profile_version,
    )


def check_parent(kind: str, parent_kind: str | None, ancestors_of_parent: list[str], team_id: str) -> None:
    """A parent of the right kind, and no cycle (the team is not among its new parent's ancestors)."""
    allowed = ALLOWED_PARENTS[kind]
    if parent_kind is None:
        if allowed:
            raise DomainError("every team but the county corps belongs to a parent team", field="parent_id")
        return
    if not allowed:
        raise DomainError("the county corps has no parent team", field="parent_id")
    if parent_kind not in allowed:
        raise DomainError(f"a {kind} team sits under a {' or '.join(allowed)} team", field="parent_id")
    if team_id in ancestors_of_parent:
        raise CycleInTeams("a team cannot sit under one of its own sub-teams", field="parent_id")


def update_team(team: Team, changes: dict[str, object]) -> list[contracts.EventData]:
    """Change a team; every change is announced with the whole team."""
    unknown = set(changes) - set(TEAM_UPDATABLE)
    if unknown:
        raise DomainError(f"cannot change {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    changed = {name: value for name, value in changes.items() if getattr(team, name) != value}
    if not changed:
        return []
    for name, value in changed.items():
        setattr(team, name, value)
    if team.leader_id and team.leader_id not in team.member_ids:
        team.member_ids = [*team.member_ids, team.leader_id]
    team.profile_version += 1
    return [team_snapshot(team)]


def join_team(
    team: Team, volunteer: Volunteer
) -> tuple[list[contracts.EventData], list[contracts.EventData]]:
    """Put a volunteer in a team: (team events, volunteer events); nothing when they are in already."""
    if not team.active:
        raise StateConflict("the team is not active", field="team_id")
    team_events: list[contracts.EventData] = []
    volunteer_events: list[contracts.EventData] = []
    if volunteer.id not in team.member_ids:
        team.member_ids = [*team.member_ids, volunteer.id]
        team.profile_version += 1
        team_events.append(team_snapshot(team))
    if team.id not in volunteer.team_ids:
        volunteer.team_ids = [*volunteer.team_ids, team.id]
        volunteer.profile_version += 1
        volunteer_events.append(snapshot(volunteer, registered=False))
    return team_events, volunteer_events


def leave_team(
    team: Team, volunteer: Volunteer
) -> tuple[list[contracts.EventData], list[contracts.EventData]]:
    """Take a volunteer out of a team (and off its lead); nothing when they were not in it."""
    team_events: list[contracts.EventData] = []
    volunteer_events: list[contracts.EventData] = []
    if volunteer.id in team.member_ids or team.leader_id == volunteer.id:
        team.member_ids = [m for m in team.member_ids if m != volunteer.id]
        if team.leader_id == volunteer.id:
            team.leader_id = None
        team.profile_version += 1
        team_events.append(team_snapshot(team))
    if team.id in volunteer.team_ids:
        volunteer.team_ids = [t for t in volunteer.team_ids if t != team.id]
        volunteer.profile_version += 1
        volunteer_events.append(snapshot(volunteer, registered=False))
    return team_events, volunteer_events


# --- institutes and the tree -----------------------------------------------------------------------
def institute_name(township: str) -> str:
    """The default name of a township's institute (新时代文明实践所)."""
    return f"{township}新时代文明实践所"


@dataclass(frozen=True)
class Institute:
    """A township institute: one per township, under the county centre."""

    township: str
    name: str
    leader_name: str | None = None
    phone: str | None = None
    address: str | None = None


def default_institutes() -> list[Institute]:
    """The 14 institutes as the county lists them."""
    return [Institute(township=t, name=institute_name(t)) for t in TOWNSHIPS]


@dataclass(frozen=True)
class InstituteSummary:
    """An institute with what it has: stations by kind, teams covering it, volunteers serving in it."""

    institute: Institute
    stations: dict[str, int]
    teams: int
    volunteers: int


@dataclass(frozen=True)
class OrganisationSummary:
    """The centre's institutes with their counts, and the county's totals."""

    institutes: list[InstituteSummary]
    practice_stations: int
    family_education_stations: int
    teams: dict[str, int]
    volunteers: int


def summarise(
    institutes: list[Institute],
    stations: dict[tuple[str, str], int],
    teams: list[dict[str, object]],
    volunteers: dict[str, int],
) -> OrganisationSummary:
    """The organisation tree with counts: centre → institutes (stations, teams, volunteers)."""
    teams_by_township: dict[str, int] = {}
    for team in teams:
        for township in team.get("townships") or []:  # type: ignore[union-attr]
            teams_by_township[str(township)] = teams_by_township.get(str(township), 0) + 1
    rows = [
        InstituteSummary(
            institute=institute,
            stations={kind: stations.get((institute.township, kind), 0) for kind in get_args(StationKind)},
            teams=teams_by_township.get(institute.township, 0),
            volunteers=volunteers.get(institute.township, 0),
        )
        for institute in institutes
    ]
    return OrganisationSummary(
        institutes=rows,
        practice_stations=sum(n for (_t, kind), n in stations.items() if kind != "family_education"),
        family_education_stations=sum(n for (_t, kind), n in stations.items() if kind == "family_education"),
        teams={kind: sum(1 for team in teams if team.get("kind") == kind) for kind in TEAM_KINDS},
        volunteers=sum(volunteers.values()),
    )
