"""How dispatch stores the policy in force."""

from __future__ import annotations

import mongoengine

from services.common.store import DocumentStore


class PolicyDocument(mongoengine.Document):
    """The dispatch policy in force (one document, `_id` "current")."""

    meta = {"collection": "policy"}

    id = mongoengine.StringField(primary_key=True)
    policy = mongoengine.DictField()
    version = mongoengine.IntField()
    updated_by = mongoengine.StringField()
    updated_at = mongoengine.DateTimeField()


policy_store = DocumentStore(PolicyDocument)
