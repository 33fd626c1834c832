"""How follow-ups are stored: one per request, outbox included."""

from __future__ import annotations

import mongoengine

from services.common.store import AggregateDocument, AggregateStore


class FollowupDocument(AggregateDocument):
    """One request's follow-up; `_id` is the request id, so a request is followed up at most once."""

    meta = {"collection": "followups", "indexes": [["township", "status", "-opened_at"], "outbox_pending"]}

    id = mongoengine.StringField(primary_key=True)
    township = mongoengine.StringField()
    category = mongoengine.StringField()
    reasons = mongoengine.ListField(mongoengine.StringField())
    opened_at = mongoengine.DateTimeField()
    status = mongoengine.StringField()
    resident_id = mongoengine.StringField()
    volunteer_id = mongoengine.StringField()
    score = mongoengine.IntField()
    comment = mongoengine.StringField()
    outcome = mongoengine.StringField()
    note = mongoengine.StringField()
    resolved_by = mongoengine.StringField()
    resolved_at = mongoengine.DateTimeField()


followups_store = AggregateStore(FollowupDocument)
