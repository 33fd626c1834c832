"""How stations are stored: each with its outbox, so a change and its `station.updated` land together."""

from __future__ import annotations

import mongoengine

from services.common.store import AggregateDocument, AggregateStore


class StationDocument(AggregateDocument):
    """A village or community station, or a family-education guidance station."""

    meta = {
        "collection": "stations",
        "indexes": [["township", "kind"], {"fields": ["code"], "unique": True}, "outbox_pending"],
    }

    id = mongoengine.StringField(primary_key=True)
    code = mongoengine.StringField(required=True)
    name = mongoengine.StringField(required=True)
    township = mongoengine.StringField(required=True)
    kind = mongoengine.StringField(required=True)
    village = mongoengine.StringField()
    profile_version = mongoengine.IntField(default=1)


stations_store = AggregateStore(StationDocument)
