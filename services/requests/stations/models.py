"""How the requests stage keeps the stations it learns from `station.updated` (collection `stations`)."""

from __future__ import annotations

import mongoengine


class KnownStation(mongoengine.Document):
    """A station as last announced: which village of which township it serves."""

    meta = {"collection": "stations", "indexes": [["township", "village"]], "strict": False}

    id = mongoengine.StringField(primary_key=True)
    code = mongoengine.StringField()
    name = mongoengine.StringField()
    township = mongoengine.StringField()
    village = mongoengine.StringField()
    kind = mongoengine.StringField()
    station_version = mongoengine.IntField()
