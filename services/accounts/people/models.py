"""How accounts are stored: the accounts, wrong-password counters, and the volunteers and teams known
from the volunteers service's events (to link volunteer logins and find team leaders)."""

from __future__ import annotations

import mongoengine

from services.common.store import AggregateDocument, AggregateStore


class AccountDocument(AggregateDocument):
    """One account; `login` (a username, or `phone:<digits>` for residents) is unique."""

    meta = {
        "collection": "accounts",
        "indexes": [
            {"fields": ["login"], "unique": True},
            "subject",
            ["township_key", "role"],
            "volunteer_id",
        ],
    }

    id = mongoengine.StringField(primary_key=True)
    login = mongoengine.StringField(required=True)
    role = mongoengine.StringField(required=True)
    subject = mongoengine.StringField(required=True)
    display_name = mongoengine.StringField()
    township = mongoengine.StringField()
    township_key = mongoengine.StringField()
    volunteer_id = mongoengine.StringField()
    phone = mongoengine.StringField()
    password_hash = mongoengine.StringField()
    active = mongoengine.BooleanField(default=True)
    created_at = mongoengine.DateTimeField()
    created_by = mongoengine.StringField()


class LoginFailureDocument(AggregateDocument):
    """Wrong passwords for one login name; `_id` is the name."""

    meta = {"collection": "login_failures"}

    id = mongoengine.StringField(primary_key=True)
    count = mongoengine.IntField()
    first_at = mongoengine.DateTimeField()
    locked_until = mongoengine.DateTimeField()


class KnownVolunteerDocument(mongoengine.Document):
    """A volunteer as `volunteer.registered` / `volunteer.updated` last described them."""

    meta = {"collection": "known_volunteers"}

    id = mongoengine.StringField(primary_key=True)
    name = mongoengine.StringField()
    township = mongoengine.StringField()
    active = mongoengine.BooleanField()
    profile_version = mongoengine.IntField()


class KnownTeamDocument(mongoengine.Document):
    """A team's leader and members as `team.updated` last described them."""

    meta = {"collection": "known_teams"}

    id = mongoengine.StringField(primary_key=True)
    leader_id = mongoengine.StringField()
    member_ids = mongoengine.ListField(mongoengine.StringField())
    profile_version = mongoengine.IntField()


accounts_store = AggregateStore(AccountDocument)
failures_store = AggregateStore(LoginFailureDocument)
