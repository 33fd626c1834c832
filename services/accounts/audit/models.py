"""How the audit trail is stored: one document per entry, its id the event's, never changed."""

from __future__ import annotations

import mongoengine


class AuditEntryDocument(mongoengine.Document):
    """One staff action; `township_key` ("county" when none) is the equality a township's page uses."""

    meta = {"collection": "audit_trail", "indexes": ["township_key", "actor", "subject_id"]}

    id = mongoengine.StringField(primary_key=True)
    actor = mongoengine.StringField(required=True)
    actor_role = mongoengine.StringField(required=True)
    action = mongoengine.StringField(required=True)
    subject_type = mongoengine.StringField(required=True)
    subject_id = mongoengine.StringField(required=True)
    township = mongoengine.StringField()
    township_key = mongoengine.StringField(required=True)
    reason = mongoengine.StringField()
    details = mongoengine.DictField()
    at = mongoengine.DateTimeField(required=True)
    producer = mongoengine.StringField()
    correlation_id = mongoengine.StringField()
