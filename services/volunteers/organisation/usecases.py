"""Use cases of the organisation: institutes, the tree with its counts, stations, teams and members."""

from __future__ import annotations

from typing import Any

from services.common import contracts
from services.common.domain import DomainError, Missing
from services.common.events import envelopes
from services.common.ids import new_id, utcnow
from services.common.paging import newest_first
from services.common.store import from_state, holding, to_state
from services.volunteers import SERVICE
from services.volunteers.organisation import domain
from services.volunteers.organisation.domain import Institute, OrganisationSummary, Team
from services.volunteers.organisation.models import InstituteDocument, TeamDocument, teams_store
from services.volunteers.people import usecases as people
from services.volunteers.people.domain import Volunteer
from services.volunteers.people.models import VolunteerDocument, volunteers_store
from services.volunteers.stations import usecases as stations
from services.volunteers.stations.models import StationDocument


class UnknownTeam(Missing):
    """No team with that id is stored here."""


# --- institutes and the tree -----------------------------------------------------------------------
def list_institutes(township: str | None = None) -> list[Institute]:
    """The 14 institutes, with what staff have recorded about each (defaults otherwise)."""
    stored = {doc["_id"]: doc for doc in InstituteDocument._get_collection().find()}
    found = []
    for default in domain.default_institutes():
        if township and default.township != township:
            continue
        doc = stored.get(default.township, {})
        found.append(
            Institute(
                township=default.township,
                name=doc.get("name") or default.name,
                leader_name=doc.get("leader_name"),
                phone=doc.get("phone"),
                address=doc.get("address"),
            )
        )
    return found


def put_institute(township: str, fields: dict[str, Any]) -> Institute:
    """Record an institute's name, leader, phone and address (the whole record, idempotent)."""
    values = {"name": fields.get("name") or domain.institute_name(township), **fields}
    values["name"] = values["name"] or domain.institute_name(township)
    InstituteDocument._get_collection().replace_one(
        {"_id": township}, {"_id": township, **values}, upsert=True
    )
    return list_institutes(township)[0]


def summary() -> OrganisationSummary:
    """Centre → institutes with station, team and volunteer counts."""
    stations: dict[tuple[str, str], int] = {}
    grouped = StationDocument._get_collection().aggregate(
        [{"$group": {"_id": {"township": "$township", "kind": "$kind"}, "count": {"$sum": 1}}}]
    )
    for row in grouped:
        stations[(row["_id"]["township"], row["_id"]["kind"])] = row["count"]
    teams = list(TeamDocument._get_collection().find({}, {"kind": 1, "townships": 1}))
    volunteers = {
        row["_id"]: row["count"]
        for row in VolunteerDocument._get_collection().aggregate(
            [{"$group": {"_id": "$township", "count": {"$sum": 1}}}]
        )
    }
    return domain.summarise(list_institutes(), stations, teams, volunteers)


# --- teams -----------------------------------------------------------------------------------------
def create_team(fields: dict[str, Any], causation_id: str) -> Team:
    """Store a new team and announce it."""
    if fields.get("parent_id") and teams_store.get(fields["parent_id"]) is None:
        raise DomainError("no team with that id", field="parent_id")
    if fields.get("leader_id") and not people.is_registered(fields["leader_id"]):
        raise DomainError("no volunteer with that id", field="leader_id")
    if fields.get("station_id"):
        _check_station(fields["station_id"], fields.get("townships") or [])
    team = Team(id=new_id(), created_at=utcnow(), **fields)
    events = domain.create_team(team)
    teams_store.insert(team.id, to_state(team), _envelopes(events, team.id, causation_id))
    return team


def _check_station(station_id: str, townships: list[str]) -> None:
    """A team's station exists and lies in a township the team covers (422 naming `station_id`)."""
    station = stations.find_station(station_id)
    if station is None:
        raise DomainError("no station with that id", field="station_id")
    if townships and station.township not in townships:
        raise DomainError(
            f"the station is in {station.township}, which the team does not cover", field="station_id"
        )


def get_team(team_id: str) -> Team:
    """A stored team."""
    team = find_team(team_id)
    if team is None:
        raise UnknownTeam("no team with that id")
    return team


def find_team(team_id: str) -> Team | None:
    """A stored team, or None."""
    document = teams_store.get(team_id)
    return from_state(Team, document) if document is not None else None


def count_sub_teams(team_id: str) -> int:
    """How many teams sit directly under a team."""
    return TeamDocument._get_collection().count_documents({"parent_id": team_id})


def teams_led_by(leader_id: str) -> list[str]:
    """The ids of the teams this volunteer leads."""
    return [d["_id"] for d in TeamDocument._get_collection().find({"leader_id": leader_id}, {"_id": 1})]


def list_teams(*, kind: str | None, township: str | None, limit: int, before: str | None) -> list[Team]:
    """Teams, newest first."""
    query: dict[str, Any] = {}
    if kind:
        query["kind"] = kind
    if township:
        query["townships"] = township
    return _teams_where(query, limit=limit, before=before)


def sub_teams(team_id: str, limit: int, before: str | None) -> list[Team]:
    """The teams directly under a team, newest first."""
    get_team(team_id)
    return _teams_where({"parent_id": team_id}, limit=limit, before=before)


def _teams_where(query: dict[str, Any], *, limit: int, before: str | None) -> list[Team]:
    found = newest_first(
        TeamDocument._get_collection(), query, limit=limit, before=before, projection={"outbox": 0}
    )
    return [from_state(Team, document) for document in found]


def _ancestors(team_id: str | None) -> list[str]:
    chain: list[str] = []
    while team_id and team_id not in chain and len(chain) < 10:
        chain.append(team_id)
        parent = teams_store.get(team_id)
        team_id = parent.get("parent_id") if parent else None
    return chain


def update_team(team_id: str, changes: dict[str, Any], causation_id: str) -> Team:
    """Change a team's name, parent, coverage, leader or whether it is active (admin)."""
    team = get_team(team_id)
    if "parent_id" in changes:
        parent = teams_store.get(changes["parent_id"]) if changes["parent_id"] else None
        if changes["parent_id"] and parent is None:
            raise DomainError("no team with that id", field="parent_id")
        domain.check_parent(
            team.kind, parent["kind"] if parent else None, _ancestors(changes["parent_id"]), team.id
        )
    if changes.get("leader_id") and not people.is_registered(changes["leader_id"]):
        raise DomainError("no volunteer with that id", field="leader_id")
    if changes.get("station_id"):
        _check_station(changes["station_id"], changes.get("townships") or team.townships)
    team = _update_team(team_id, changes, causation_id)
    if changes.get("leader_id"):  # the leader is a member: their profile lists the team too
        _join_volunteer(changes["leader_id"], team_id, causation_id)
    return team


@holding(teams_store, lambda team_id, *_args: team_id)
def _update_team(team_id: str, changes: dict[str, Any], causation_id: str) -> Team:
    team = get_team(team_id)
    _save_team(team, domain.update_team(team, changes), causation_id)
    return team


def add_member(team_id: str, volunteer_id: str, causation_id: str) -> Team:
    """Put a volunteer in a team: the volunteer's profile first, then the team (both idempotent)."""
    team = get_team(team_id)
    volunteer = people.get_volunteer(volunteer_id)
    domain.join_team(team, volunteer)  # refuse early (inactive team) before writing anything
    _join_volunteer(volunteer_id, team_id, causation_id)
    return _join_team(team_id, volunteer_id, causation_id)


def remove_member(team_id: str, volunteer_id: str, causation_id: str) -> Team:
    """Take a volunteer out of a team (and off its lead)."""
    get_team(team_id)
    people.get_volunteer(volunteer_id)
    _leave_volunteer(volunteer_id, team_id, causation_id)
    return _leave_team(team_id, volunteer_id, causation_id)


@holding(volunteers_store, lambda volunteer_id, *_args: volunteer_id)
def _join_volunteer(volunteer_id: str, team_id: str, causation_id: str) -> None:
    volunteer = people.get_volunteer(volunteer_id)
    _, events = domain.join_team(get_team(team_id), volunteer)
    people.save_volunteer(volunteer, events, causation_id)


@holding(teams_store, lambda team_id, *_args: team_id)
def _join_team(team_id: str, volunteer_id: str, causation_id: str) -> Team:
    team = get_team(team_id)
    events, _ = domain.join_team(team, people.get_volunteer(volunteer_id))
    _save_team(team, events, causation_id)
    return team


@holding(volunteers_store, lambda volunteer_id, *_args: volunteer_id)
def _leave_volunteer(volunteer_id: str, team_id: str, causation_id: str) -> None:
    volunteer = people.get_volunteer(volunteer_id)
    _, events = domain.leave_team(get_team(team_id), volunteer)
    people.save_volunteer(volunteer, events, causation_id)


@holding(teams_store, lambda team_id, *_args: team_id)
def _leave_team(team_id: str, volunteer_id: str, causation_id: str) -> Team:
    team = get_team(team_id)
    events, _ = domain.leave_team(team, people.get_volunteer(volunteer_id))
    _save_team(team, events, causation_id)
    return team


def _save_team(team: Team, events: list[contracts.EventData], causation_id: str) -> None:
    if events:
        teams_store.save(team.id, team.version, to_state(team), _envelopes(events, team.id, causation_id))


def _envelopes(events: list[contracts.EventData], team_id: str, causation_id: str) -> list[dict[str, Any]]:
    return envelopes(events, producer=SERVICE, correlation_id=team_id, causation_id=causation_id)


def team_members(team_id: str, limit: int, before: str | None) -> list[Volunteer]:
    """The volunteers of a team, newest first."""
    get_team(team_id)
    return people.volunteers_where({"team_ids": team_id}, limit=limit, before=before)
