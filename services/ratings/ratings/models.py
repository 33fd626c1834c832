"""How ratings are stored: one rating slot per request, what can be rated and what was."""

from __future__ import annotations

import mongoengine

from services.common.store import AggregateDocument, AggregateStore


class RateableDocument(AggregateDocument):
    """One request's rating slot; `_id` is the request id, so a request is rated at most once."""

    meta = {"collection": "ratings", "indexes": ["outbox_pending"]}

    id = mongoengine.StringField(primary_key=True)
    status = mongoengine.StringField(required=True)
    resident_id = mongoengine.StringField(required=True)
    township = mongoengine.StringField()
    category = mongoengine.StringField()
    volunteer_id = mongoengine.StringField()
    team_id = mongoengine.StringField()
    task_id = mongoengine.StringField()
    completed_at = mongoengine.DateTimeField()
    rating_id = mongoengine.StringField()
    score = mongoengine.IntField()
    comment = mongoengine.StringField()
    rated_at = mongoengine.DateTimeField()


ratings_store = AggregateStore(RateableDocument)
