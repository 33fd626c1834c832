"""How dispatch stores its read-model of volunteers and teams, built from their events only."""

from __future__ import annotations

import mongoengine


class VolunteerDocument(mongoengine.Document):
    """Dispatch's read-model of a volunteer (domain.py): profile and load, from events only."""

    meta = {"collection": "volunteer_view", "indexes": [["active", "township"]], "strict": False}

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
    opened_task_ids = mongoengine.ListField(mongoengine.StringField())
    offered_task_ids = mongoengine.ListField(mongoengine.StringField())
    accepted_task_ids = mongoengine.ListField(mongoengine.StringField())
    closed_task_ids = mongoengine.ListField(mongoengine.StringField())
    ratings = mongoengine.DictField()
    last_offered_at = mongoengine.DateTimeField()

    @property
    def open_task_ids(self) -> list[str]:
        """Tasks that count against the load now."""
        closed = set(self.closed_task_ids)
        return [t for t in self.opened_task_ids if t not in closed]


class TeamDocument(mongoengine.Document):
    """Dispatch's read-model of a team: coverage from team events, load from task events."""

    meta = {"collection": "team_view", "strict": False}

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
    opened_task_ids = mongoengine.ListField(mongoengine.StringField())
    offered_task_ids = mongoengine.ListField(mongoengine.StringField())
    accepted_task_ids = mongoengine.ListField(mongoengine.StringField())
    closed_task_ids = mongoengine.ListField(mongoengine.StringField())
    ratings = mongoengine.DictField()
    last_offered_at = mongoengine.DateTimeField()
