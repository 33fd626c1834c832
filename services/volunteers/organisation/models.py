"""How teams, stations and township institutes are stored."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import mongoengine

from services.common.rollups import Contribution
from services.common.store import AggregateDocument, AggregateStore, DocumentStore, Shelf
from services.volunteers.figures import COUNTY, ORGANISATION, POPULATION_MOMENT

# The list of all teams.
ALL_TEAMS = Shelf("county", lambda d: "county")


class TeamDocument(AggregateDocument):
    meta = {
        "collection": "teams",
        # Sub-teams of a team, teams a volunteer leads, teams covering a township: a few each.
        "indexes": [
            "parent_id",
            "leader_id",
            "townships",
            "outbox_pending",
            "rollups_pending",
            ALL_TEAMS.field,
        ],
    }

    id = mongoengine.StringField(primary_key=True)
    name = mongoengine.StringField(required=True)
    kind = mongoengine.StringField(required=True)
    parent_id = mongoengine.StringField()
    townships = mongoengine.ListField(mongoengine.StringField())
    categories = mongoengine.ListField(mongoengine.StringField())
    leader_id = mongoengine.StringField()
    member_ids = mongoengine.ListField(mongoengine.StringField())
    active = mongoengine.BooleanField(default=True)
    profile_version = mongoengine.IntField(default=1)
    created_at = mongoengine.DateTimeField()
    county_shelf = mongoengine.StringField()
    station_id = mongoengine.StringField()


class InstituteDocument(mongoengine.Document):
    """A township institute's details; the 14 townships are fixed, so `_id` is the township."""

    meta = {"collection": "institutes"}

    id = mongoengine.StringField(primary_key=True)
    name = mongoengine.StringField(required=True)
    leader_name = mongoengine.StringField()
    phone = mongoengine.StringField()
    address = mongoengine.StringField()


def team_rollups(document: Mapping[str, Any], _now: datetime) -> Contribution:
    """A team counts for each township it covers, and by its kind for the county."""
    counted: Contribution = {}
    for township in document.get("townships") or []:
        ORGANISATION.add(counted, township, POPULATION_MOMENT, "teams")
    ORGANISATION.add(counted, COUNTY, POPULATION_MOMENT, f"team:{document.get('kind')}")
    return counted


teams_store = AggregateStore(TeamDocument, shelves=(ALL_TEAMS,), rollups=team_rollups)
institutes_store = DocumentStore(InstituteDocument)
