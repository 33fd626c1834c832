"""How sessions are stored: one document per login, found by its id (the tokens' `sid`)."""

from __future__ import annotations

import mongoengine

from services.common.store import AggregateDocument, AggregateStore


class SessionDocument(AggregateDocument):
    """A login session; only hashes of its cookie secrets are kept."""

    meta = {"collection": "sessions", "indexes": ["account_id"]}

    id = mongoengine.StringField(primary_key=True)
    account_id = mongoengine.StringField(required=True)
    subject = mongoengine.StringField(required=True)
    role = mongoengine.StringField(required=True)
    township = mongoengine.StringField()
    refresh_hash = mongoengine.StringField(required=True)
    previous_refresh_hash = mongoengine.StringField()
    live_hash = mongoengine.StringField(required=True)
    created_at = mongoengine.DateTimeField(required=True)
    expires_at = mongoengine.DateTimeField(required=True)
    rotated_at = mongoengine.DateTimeField()
    revoked_at = mongoengine.DateTimeField()
    revoked_reason = mongoengine.StringField()
    method = mongoengine.StringField()


sessions_store = AggregateStore(SessionDocument)
