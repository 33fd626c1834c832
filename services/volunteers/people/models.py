"""How volunteers are stored."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import mongoengine

from services.common.rollups import Contribution
from services.common.store import AggregateDocument, AggregateStore, Shelf
from services.volunteers.figures import ORGANISATION, POPULATION_MOMENT

# Lists of volunteers: a township's, the county's.
TOWNSHIP = Shelf("township", lambda d: d.get("township"))
COUNTY = Shelf("county", lambda d: "county")


class VolunteerDocument(AggregateDocument):
    meta = {
        "collection": "volunteers",
        "indexes": [
            # A team's members: the volunteers whose profile lists the team (a handful).
            "team_ids",
            "outbox_pending",
            "rollups_pending",
            *(shelf.field for shelf in (TOWNSHIP, COUNTY)),
        ],
    }

    id = mongoengine.StringField(primary_key=True)
    name = mongoengine.StringField(required=True)
    phone = mongoengine.StringField()
    township = mongoengine.StringField(required=True)
    station_id = mongoengine.StringField()
    station = mongoengine.StringField()
    skills = mongoengine.ListField(mongoengine.StringField())
    team_ids = mongoengine.ListField(mongoengine.StringField())
    active = mongoengine.BooleanField(default=True)
    capacity = mongoengine.IntField(default=2)
    latitude = mongoengine.FloatField()
    longitude = mongoengine.FloatField()
    registered_at = mongoengine.DateTimeField(required=True)
    profile_version = mongoengine.IntField(default=1)
    weekly_availability = mongoengine.ListField(mongoengine.DictField())
    availability_exceptions = mongoengine.ListField(mongoengine.DictField())
    township_shelf = mongoengine.StringField()
    county_shelf = mongoengine.StringField()


def volunteer_rollups(document: Mapping[str, Any], _now: datetime) -> Contribution:
    """A registered volunteer counts in their township's organisation figures."""
    counted: Contribution = {}
    ORGANISATION.add(counted, document.get("township"), POPULATION_MOMENT, "volunteers")
    return counted


volunteers_store = AggregateStore(VolunteerDocument, shelves=(TOWNSHIP, COUNTY), rollups=volunteer_rollups)
