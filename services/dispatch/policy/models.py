"""How dispatch stores the policy in force."""

from __future__ import annotations

import mongoengine


class PolicyDocument(mongoengine.Document):
    """The dispatch policy in force (one document, `_id` "current")."""

    meta = {"collection": "policy", "indexes": ["outbox_pending"]}

    id = mongoengine.StringField(primary_key=True)
    policy = mongoengine.DictField()
    version = mongoengine.IntField()
    updated_by = mongoengine.StringField()
    updated_at = mongoengine.DateTimeField()
    # The audit entries of changes, waiting for the relay (docs/adr/0096).
    outbox = mongoengine.ListField(mongoengine.DictField(), default=list)
    outbox_pending = mongoengine.BooleanField(default=False)
