"""How patrol reports are stored (collection `patrol_reports`)."""

from __future__ import annotations

import mongoengine

from services.common.store import AggregateDocument, AggregateStore


class PatrolReportDocument(AggregateDocument):
    """One patrol report (collection `patrol_reports`; the stats read `tier`, `township`, `reported_at`)."""

    meta = {
        "collection": "patrol_reports",
        "indexes": [
            ["steward_id", "-reported_at"],
            ["township", "tier", "-reported_at"],
            ["tier", "request_created"],
            # "<steward>:<Idempotency-Key>", or the report id when no key was sent.
            {"fields": ["idempotency_scope"], "unique": True},
        ],
    }

    id = mongoengine.StringField(primary_key=True)
    steward_id = mongoengine.StringField(required=True)
    township = mongoengine.StringField(required=True)
    village = mongoengine.StringField(required=True)
    description = mongoengine.StringField(required=True)
    tier = mongoengine.StringField(required=True)
    status = mongoengine.StringField(required=True)
    reported_at = mongoengine.DateTimeField(required=True)
    address = mongoengine.StringField()
    latitude = mongoengine.FloatField()
    longitude = mongoengine.FloatField()
    photo_urls = mongoengine.ListField(mongoengine.StringField())
    resolution_note = mongoengine.StringField()
    category = mongoengine.StringField()
    urgency = mongoengine.StringField()
    request_id = mongoengine.StringField()
    request_created = mongoengine.BooleanField(default=False)
    parties = mongoengine.ListField(mongoengine.StringField())
    meetings = mongoengine.ListField(mongoengine.DictField())
    closed_at = mongoengine.DateTimeField()
    closed_by = mongoengine.StringField()
    updated_at = mongoengine.DateTimeField()
    idempotency_scope = mongoengine.StringField()
    idempotency_fingerprint = mongoengine.StringField()


patrol_store = AggregateStore(PatrolReportDocument)
