"""How dispatch stores its read-model of volunteers and teams, built from their events only."""

from __future__ import annotations

import mongoengine

from services.common.store import DocumentStore


class VolunteerDocument(mongoengine.Document):
    """Dispatch's read-model of a volunteer (domain.py): profile and load, from events only."""

    meta = {
        "collection": "volunteer_view",
        # The index of profiles is read township by township once, then by the minute profiles changed.
        "indexes": [["township", "active"], "profile_minute"],
        "strict": False,
    }

    id = mongoengine.StringField(primary_key=True)
    kind = mongoengine.StringField()
    name = mongoengine.StringField()
    township = mongoengine.StringField()
    station_id = mongoengine.StringField()
    station = mongoengine.StringField()
    skills = mongoengine.ListField(mongoengine.StringField())
    team_ids = mongoengine.ListField(mongoengine.StringField())
    active = mongoengine.BooleanField()
    capacity = mongoengine.IntField()
    latitude = mongoengine.FloatField()
    longitude = mongoengine.FloatField()
    weekly_availability = mongoengine.ListField(mongoengine.DictField())
    availability_exceptions = mongoengine.ListField(mongoengine.DictField())
    profile_version = mongoengine.IntField()
    profile_minute = mongoengine.StringField()
    # Open tasks and the last week's (domain.py), and lifetime counters: nothing grows with history.
    tasks = mongoengine.DictField()
    rated = mongoengine.DictField()
    offers = mongoengine.IntField()
    accepted = mongoengine.IntField()
    rating_sum = mongoengine.FloatField()
    rating_count = mongoengine.IntField()
    last_offered_at = mongoengine.DateTimeField()


class TeamDocument(mongoengine.Document):
    """Dispatch's read-model of a team: coverage from team events, load from task events."""

    meta = {"collection": "team_view", "indexes": [["categories", "active"]], "strict": False}

    id = mongoengine.StringField(primary_key=True)
    kind = mongoengine.StringField()
    name = mongoengine.StringField()
    team_kind = mongoengine.StringField()
    townships = mongoengine.ListField(mongoengine.StringField())
    station_id = mongoengine.StringField()
    categories = mongoengine.ListField(mongoengine.StringField())
    leader_id = mongoengine.StringField()
    member_ids = mongoengine.ListField(mongoengine.StringField())
    active = mongoengine.BooleanField()
    profile_version = mongoengine.IntField()
    profile_minute = mongoengine.StringField()
    tasks = mongoengine.DictField()
    rated = mongoengine.DictField()
    offers = mongoengine.IntField()
    accepted = mongoengine.IntField()
    rating_sum = mongoengine.FloatField()
    rating_count = mongoengine.IntField()
    last_offered_at = mongoengine.DateTimeField()


volunteer_views = DocumentStore(VolunteerDocument)
team_views = DocumentStore(TeamDocument)
