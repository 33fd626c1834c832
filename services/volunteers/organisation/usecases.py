"""Use cases of the organisation: institutes, the tree with its counts, teams and their members."""

from __future__ import annotations

from typing import Any

import mongoengine
from pymongo import DESCENDING

from services.common.store import from_state, holding, to_state
from services.volunteers.organisation import domain as organisation
from services.volunteers.organisation.domain import Institute
from services.volunteers.tasks import usecases
from services.volunteers.tasks.domain import Team, Volunteer
from services.volunteers.tasks.models import (
    StationDocument,
    TeamDocument,
    VolunteerDocument,
    teams_store,
    volunteers_store,
)


class InstituteDocument(mongoengine.Document):
    """A township institute's details; the 14 townships are fixed, so `_id` is the township."""

    meta = {"collection": "institutes"}

    id = mongoengine.StringField(primary_key=True)
    name = mongoengine.StringField(required=True)
    leader_name = mongoengine.StringField()
    phone = mongoengine.StringField()
    address = mongoengine.StringField()


# --- institutes ------------------------------------------------------------------------------------
def list_institutes(township: str | None = None) -> list[Institute]:
    """The 14 institutes, with what staff have recorded about each (defaults otherwise)."""
    stored = {doc["_id"]: doc for doc in InstituteDocument._get_collection().find()}
    found = []
    for default in organisation.default_institutes():
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
    values = {"name": fields.get("name") or organisation.institute_name(township), **fields}
    values["name"] = values["name"] or organisation.institute_name(township)
    InstituteDocument._get_collection().replace_one(
        {"_id": township}, {"_id": township, **values}, upsert=True
    )
    return list_institutes(township)[0]


def tree() -> dict[str, Any]:
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
    return organisation.summarise(list_institutes(), stations, teams, volunteers)


# --- stations --------------------------------------------------------------------------------------
def get_station(station_id: str) -> dict[str, Any]:
    """A stored station."""
    station = StationDocument._get_collection().find_one({"_id": station_id})
    if station is None:
        raise usecases.NotFoundHere("no station with that id")
    return station


def update_station(station_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Rename a station, move it to another township or change its kind (admin)."""
    get_station(station_id)
    if changes:
        StationDocument._get_collection().update_one({"_id": station_id}, {"$set": changes})
    return get_station(station_id)


# --- teams -----------------------------------------------------------------------------------------
def get_team(team_id: str) -> Team:
    """A stored team."""
    document = teams_store.get(team_id)
    if document is None:
        raise usecases.NotFoundHere("no team with that id")
    return from_state(Team, document)


def team_view(team: Team) -> dict[str, Any]:
    """A team with how many sub-teams it has."""
    children = TeamDocument._get_collection().count_documents({"parent_id": team.id})
    view = to_state(team)
    return {"id": team.id, **view, "sub_teams": children, "members": len(team.member_ids)}


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
            raise organisation.DomainError("no team with that id", field="parent_id")
        organisation.check_parent(
            team.kind, parent["kind"] if parent else None, _ancestors(changes["parent_id"]), team.id
        )
    if changes.get("leader_id") and volunteers_store.get(changes["leader_id"]) is None:
        raise organisation.DomainError("no volunteer with that id", field="leader_id")
    team = _update_team(team_id, changes, causation_id)
    if changes.get("leader_id"):  # the leader is a member: their profile lists the team too
        _join_volunteer(changes["leader_id"], team_id, causation_id)
    return team


@holding(teams_store, lambda team_id, *_args: team_id)
def _update_team(team_id: str, changes: dict[str, Any], causation_id: str) -> Team:
    team = get_team(team_id)
    events = organisation.update_team(team, changes)
    if events:
        teams_store.save(
            team.id, team.version, to_state(team), usecases._envelopes(events, team.id, causation_id)
        )
    return team


def add_member(team_id: str, volunteer_id: str, causation_id: str) -> Team:
    """Put a volunteer in a team: the volunteer's profile first, then the team (both idempotent)."""
    team = get_team(team_id)
    volunteer = usecases.get_volunteer(volunteer_id)
    organisation.join_team(team, volunteer)  # refuse early (inactive team) before writing anything
    _join_volunteer(volunteer_id, team_id, causation_id)
    return _join_team(team_id, volunteer_id, causation_id)


def remove_member(team_id: str, volunteer_id: str, causation_id: str) -> Team:
    """Take a volunteer out of a team (and off its lead)."""
    get_team(team_id)
    usecases.get_volunteer(volunteer_id)
    _leave_volunteer(volunteer_id, team_id, causation_id)
    return _leave_team(team_id, volunteer_id, causation_id)


@holding(volunteers_store, lambda volunteer_id, *_args: volunteer_id)
def _join_volunteer(volunteer_id: str, team_id: str, causation_id: str) -> None:
    volunteer = usecases.get_volunteer(volunteer_id)
    team = get_team(team_id)
    _, events = organisation.join_team(team, volunteer)
    _save_volunteer(volunteer, events, causation_id)


@holding(teams_store, lambda team_id, *_args: team_id)
def _join_team(team_id: str, volunteer_id: str, causation_id: str) -> Team:
    team = get_team(team_id)
    volunteer = usecases.get_volunteer(volunteer_id)
    events, _ = organisation.join_team(team, volunteer)
    if events:
        teams_store.save(
            team.id, team.version, to_state(team), usecases._envelopes(events, team.id, causation_id)
        )
    return team


@holding(volunteers_store, lambda volunteer_id, *_args: volunteer_id)
def _leave_volunteer(volunteer_id: str, team_id: str, causation_id: str) -> None:
    volunteer = usecases.get_volunteer(volunteer_id)
    _, events = organisation.leave_team(get_team(team_id), volunteer)
    _save_volunteer(volunteer, events, causation_id)


@holding(teams_store, lambda team_id, *_args: team_id)
def _leave_team(team_id: str, volunteer_id: str, causation_id: str) -> Team:
    team = get_team(team_id)
    events, _ = organisation.leave_team(team, usecases.get_volunteer(volunteer_id))
    if events:
        teams_store.save(
            team.id, team.version, to_state(team), usecases._envelopes(events, team.id, causation_id)
        )
    return team


def _save_volunteer(volunteer: Volunteer, events: list, causation_id: str) -> None:
    if events:
        volunteers_store.save(
            volunteer.id,
            volunteer.version,
            to_state(volunteer),
            usecases._envelopes(events, volunteer.id, causation_id),
        )


def team_members(team_id: str, limit: int, before: str | None) -> list[Volunteer]:
    """The volunteers of a team, newest first."""
    get_team(team_id)
    query: dict[str, Any] = {"team_ids": team_id}
    if before:
        query["_id"] = {"$lt": before}
    cursor = (
        VolunteerDocument._get_collection()
        .find(query, {"outbox": 0})
        .sort([("_id", DESCENDING)])
        .limit(limit)
    )
    return [from_state(Volunteer, document) for document in cursor]


def sub_teams(team_id: str, limit: int, before: str | None) -> list[Team]:
    """The teams directly under a team."""
    get_team(team_id)
    query: dict[str, Any] = {"parent_id": team_id}
    if before:
        query["_id"] = {"$lt": before}
    cursor = (
        TeamDocument._get_collection().find(query, {"outbox": 0}).sort([("_id", DESCENDING)]).limit(limit)
    )
    return [from_state(Team, document) for document in cursor]
