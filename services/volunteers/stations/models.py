"""How stations are stored: each with its outbox, so a change and its `station.updated` land together."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import mongoengine

from services.common.rollups import Contribution
from services.common.store import AggregateDocument, AggregateStore, Shelf
from services.volunteers.figures import ORGANISATION, POPULATION_MOMENT

# Lists: a township's stations, all stations.
STATION_TOWNSHIP = Shelf("township", lambda d: d.get("township"))
ALL_STATIONS = Shelf("county", lambda d: "county")


class StationDocument(AggregateDocument):
    """A village or community station, or a family-education guidance station."""

    meta = {
        "collection": "stations",
        "indexes": [
            {"fields": ["code"], "unique": True},
            "outbox_pending",
            "rollups_pending",
            STATION_TOWNSHIP.field,
            ALL_STATIONS.field,
        ],
    }

    id = mongoengine.StringField(primary_key=True)
    code = mongoengine.StringField(required=True)
    name = mongoengine.StringField(required=True)
    township = mongoengine.StringField(required=True)
    kind = mongoengine.StringField(required=True)
    village = mongoengine.StringField()
    profile_version = mongoengine.IntField(default=1)
    township_shelf = mongoengine.StringField()
    county_shelf = mongoengine.StringField()


def station_rollups(document: Mapping[str, Any], _now: datetime) -> Contribution:
    """A station counts by its kind for its township (the organisation's summary)."""
    counted: Contribution = {}
    ORGANISATION.add(counted, document.get("township"), POPULATION_MOMENT, f"station:{document.get('kind')}")
    return counted


stations_store = AggregateStore(
    StationDocument, shelves=(STATION_TOWNSHIP, ALL_STATIONS), rollups=station_rollups
)
