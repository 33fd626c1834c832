"""How teams, stations and township institutes are stored."""

from __future__ import annotations

import mongoengine

from services.common.store import AggregateDocument, AggregateStore


class TeamDocument(AggregateDocument):
    meta = {"collection": "teams", "indexes": ["kind", "parent_id", "outbox_pending"]}

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
    station_id = mongoengine.StringField()


class InstituteDocument(mongoengine.Document):
    """A township institute's details; the 14 townships are fixed, so `_id` is the township."""

    meta = {"collection": "institutes"}

    id = mongoengine.StringField(primary_key=True)
    name = mongoengine.StringField(required=True)
    leader_name = mongoengine.StringField()
    phone = mongoengine.StringField()
    address = mongoengine.StringField()


teams_store = AggregateStore(TeamDocument)
