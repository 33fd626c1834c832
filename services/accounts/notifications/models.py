"""How the notifier stores: notices (the console's list), channel queues, preferences, the owners of
requests (learned from `request.submitted`), and the development inbox."""

from __future__ import annotations

import mongoengine

from services.common.store import AggregateDocument, AggregateStore


class NoticeDocument(mongoengine.Document):
    """One notice for one person; `source` (event id : account id) makes it once per event."""

    meta = {
        "collection": "notices",
        "indexes": ["account_id", {"fields": ["source"], "unique": True}],
    }

    id = mongoengine.StringField(primary_key=True)
    source = mongoengine.StringField(required=True)
    account_id = mongoengine.StringField(required=True)
    topic = mongoengine.StringField()
    event_type = mongoengine.StringField()
    title = mongoengine.StringField()
    text = mongoengine.StringField()
    request_id = mongoengine.StringField()
    task_id = mongoengine.StringField()
    created_at = mongoengine.DateTimeField()
    read_at = mongoengine.DateTimeField()


class ChannelQueueDocument(AggregateDocument):
    """A person's queue on one channel for one topic (docs/adr/0083)."""

    meta = {"collection": "channel_queues", "indexes": ["pending"]}

    id = mongoengine.StringField(primary_key=True)
    account_id = mongoengine.StringField()
    channel = mongoengine.StringField()
    topic = mongoengine.StringField()
    address = mongoengine.StringField()
    window_until = mongoengine.DateTimeField()
    held = mongoengine.ListField(mongoengine.DictField())
    messages = mongoengine.ListField(mongoengine.DictField())
    seen = mongoengine.ListField(mongoengine.StringField())
    pending = mongoengine.BooleanField()


class PreferencesDocument(AggregateDocument):
    """A person's channels, quiet hours and addresses; `_id` is the account id."""

    meta = {"collection": "preferences"}

    id = mongoengine.StringField(primary_key=True)
    channels = mongoengine.DictField()
    quiet_start = mongoengine.StringField()
    quiet_end = mongoengine.StringField()
    phone = mongoengine.StringField()
    email = mongoengine.StringField()
    wechat_openid = mongoengine.StringField()


class RequestOwnerDocument(mongoengine.Document):
    """Whose request this is, from `request.submitted`: later events about it name no resident."""

    meta = {"collection": "request_owners"}

    id = mongoengine.StringField(primary_key=True)
    resident_id = mongoengine.StringField()
    township = mongoengine.StringField()
    code = mongoengine.StringField()
    title = mongoengine.StringField()


class DevInboxDocument(mongoengine.Document):
    """What would have been sent on a channel that is switched off (local profiles only)."""

    meta = {"collection": "dev_inbox", "indexes": ["to"]}

    id = mongoengine.StringField(primary_key=True)
    channel = mongoengine.StringField()
    to = mongoengine.StringField()
    subject = mongoengine.StringField()
    text = mongoengine.StringField()
    request = mongoengine.DictField()
    created_at = mongoengine.DateTimeField()


queues_store = AggregateStore(ChannelQueueDocument)
preferences_store = AggregateStore(PreferencesDocument)
