"""How volunteers are stored."""

from __future__ import annotations

import mongoengine

from services.common.store import AggregateDocument, AggregateStore


class VolunteerDocument(AggregateDocument):
    meta = {
        "collection": "volunteers",
        "indexes": [["township", "active"], "skills", "outbox_pending"],
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


volunteers_store = AggregateStore(VolunteerDocument)
