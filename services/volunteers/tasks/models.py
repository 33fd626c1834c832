"""How tasks are stored: each with its outbox of lifecycle events."""

from __future__ import annotations

import mongoengine

from services.common.store import AggregateDocument, AggregateStore


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


tasks_store = AggregateStore(TaskDocument)
