"""How the audit trail is stored: one document per entry, its id the event's, never changed."""

from __future__ import annotations

import mongoengine

from services.common.store import DocumentStore, Shelf

# A page of the trail is one of four lists: a record's, an actor's, a township's, everything.
EVERYTHING = Shelf("all", lambda d: "all")
SUBJECT = Shelf("subject", lambda d: d.get("subject_id"))
ACTOR = Shelf("actor", lambda d: d.get("actor"))
TOWNSHIP = Shelf("township", lambda d: d.get("township_key"))


class AuditEntryDocument(mongoengine.Document):
    """One staff action; `township_key` ("county" when none) is the equality a township's page uses."""

    meta = {
        "collection": "audit_trail",
        "indexes": [SUBJECT.field, ACTOR.field, TOWNSHIP.field, EVERYTHING.field],
    }

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
    subject_shelf = mongoengine.StringField()
    actor_shelf = mongoengine.StringField()
    township_shelf = mongoengine.StringField()
    all_shelf = mongoengine.StringField()


audit_store = DocumentStore(AuditEntryDocument, shelves=(SUBJECT, ACTOR, TOWNSHIP, EVERYTHING))
