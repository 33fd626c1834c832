"""How the accepting stage stores volunteers, teams, stations, tasks and hours."""

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


class TaskDocument(AggregateDocument):
    meta = {
        "collection": "tasks",
        "indexes": [["volunteer_id", "status", "-offered_at"], ["request_id", "attempt"], "outbox_pending"],
    }

    id = mongoengine.StringField(primary_key=True)
    request_id = mongoengine.StringField(required=True)
    attempt = mongoengine.IntField(required=True)
    level = mongoengine.StringField()
    status = mongoengine.StringField(required=True)
    volunteer_id = mongoengine.StringField()
    team_id = mongoengine.StringField()
    resident_id = mongoengine.StringField()
    category = mongoengine.StringField()
    township = mongoengine.StringField()
    village = mongoengine.StringField()
    title = mongoengine.StringField()
    description = mongoengine.StringField()
    urgency = mongoengine.StringField()
    address = mongoengine.StringField()
    contact_phone_masked = mongoengine.StringField()
    window_start = mongoengine.DateTimeField()
    window_end = mongoengine.DateTimeField()
    offered_at = mongoengine.DateTimeField()
    deadline = mongoengine.DateTimeField()
    accepted_at = mongoengine.DateTimeField()
    checked_in_at = mongoengine.DateTimeField()
    completed_at = mongoengine.DateTimeField()
    decline_reason = mongoengine.StringField()
    withdrawn_reason = mongoengine.StringField()
    hours = mongoengine.FloatField()
    participants = mongoengine.ListField(mongoengine.DictField())
    rating_score = mongoengine.IntField()
    service_code = mongoengine.StringField()
    code_attempts = mongoengine.IntField(default=0)
    code_locked_until = mongoengine.DateTimeField()
    checked_out_at = mongoengine.DateTimeField()
    hours_capped = mongoengine.BooleanField(default=False)


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


class StationDocument(mongoengine.Document):
    """A village or community station, or a family-education guidance station."""

    meta = {"collection": "stations", "indexes": [["township", "kind"], {"fields": ["code"], "unique": True}]}

    id = mongoengine.StringField(primary_key=True)
    code = mongoengine.StringField(required=True)
    name = mongoengine.StringField(required=True)
    township = mongoengine.StringField(required=True)
    kind = mongoengine.StringField(required=True)


class HoursEntry(mongoengine.Document):
    """One volunteer's hours for one task: the ledger, written from `task.completed`."""

    meta = {"collection": "hours", "indexes": [["volunteer_id", "-completed_at"], "township"]}

    id = mongoengine.StringField(primary_key=True)  # "<task id>:<volunteer id>"
    volunteer_id = mongoengine.StringField(required=True)
    task_id = mongoengine.StringField(required=True)
    request_id = mongoengine.StringField(required=True)
    hours = mongoengine.FloatField(required=True)
    township = mongoengine.StringField()
    category = mongoengine.StringField()
    completed_at = mongoengine.DateTimeField()


class CancelledRequest(mongoengine.Document):
    """A request known to be cancelled, so an offer that arrives late is born withdrawn."""

    meta = {"collection": "cancelled_requests"}

    id = mongoengine.StringField(primary_key=True)
    cancelled_at = mongoengine.DateTimeField()


volunteers_store = AggregateStore(VolunteerDocument)
tasks_store = AggregateStore(TaskDocument)
teams_store = AggregateStore(TeamDocument)
