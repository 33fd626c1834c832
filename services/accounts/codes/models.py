"""How login codes are stored: one document per phone, with the code waiting for the notifier."""

from __future__ import annotations

import mongoengine

from services.common.store import AggregateDocument, AggregateStore


class LoginCodeDocument(AggregateDocument):
    """A phone's current code; `delivery_pending` marks one the notifier has not taken yet."""

    meta = {"collection": "login_codes", "indexes": ["delivery_pending"]}

    id = mongoengine.StringField(primary_key=True)
    code_hash = mongoengine.StringField()
    salt = mongoengine.StringField()
    issued_at = mongoengine.DateTimeField()
    expires_at = mongoengine.DateTimeField()
    attempts = mongoengine.IntField()
    used = mongoengine.BooleanField()
    sent_at = mongoengine.ListField(mongoengine.DateTimeField())
    undelivered_code = mongoengine.StringField()
    delivery_pending = mongoengine.BooleanField()


codes_store = AggregateStore(LoginCodeDocument)
