"""How beneficiaries, pairings and their visits are stored."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import mongoengine

from services.common import personal
from services.common.store import AggregateDocument, AggregateStore, from_state, to_state
from services.volunteers.pairing.domain import Beneficiary

# Sealed at rest (docs/adr/0095): who the paired elder is, where they live, how to reach them.
SEALED_BENEFICIARY_FIELDS = ("name", "address", "phone")


class BeneficiaryDocument(mongoengine.Document):
    meta = {"collection": "beneficiaries", "indexes": ["township", "flags"]}

    id = mongoengine.StringField(primary_key=True)
    name = mongoengine.StringField(required=True)
    township = mongoengine.StringField(required=True)
    village = mongoengine.StringField(required=True)
    flags = mongoengine.ListField(mongoengine.StringField())
    address = mongoengine.StringField()
    phone = mongoengine.StringField()
    resident_id = mongoengine.StringField()
    registered_at = mongoengine.DateTimeField()
    version = mongoengine.IntField(default=1)


def beneficiary_to_document(beneficiary: Beneficiary) -> dict[str, Any]:
    """The stored fields of a beneficiary, `_id` included: the name, address and phone sealed."""
    state = to_state(beneficiary)
    for name in SEALED_BENEFICIARY_FIELDS:
        state[name] = personal.seal(state.get(name))
    return {"_id": beneficiary.id, **state}


def beneficiary_from_document(document: Mapping[str, Any]) -> Beneficiary:
    """A beneficiary from its stored document, the sealed fields opened."""
    beneficiary = from_state(Beneficiary, document)
    for name in SEALED_BENEFICIARY_FIELDS:
        setattr(beneficiary, name, personal.unseal(getattr(beneficiary, name)))
    return beneficiary


class PairingDocument(AggregateDocument):
    meta = {"collection": "pairings", "indexes": [["active", "next_due_at"], "beneficiary_id", "township"]}

    id = mongoengine.StringField(primary_key=True)
    beneficiary_id = mongoengine.StringField(required=True)
    volunteer_ids = mongoengine.ListField(mongoengine.StringField())
    township = mongoengine.StringField()
    village = mongoengine.StringField()
    every_days = mongoengine.IntField()
    grace_hours = mongoengine.IntField()
    next_due_at = mongoengine.DateTimeField()
    created_at = mongoengine.DateTimeField()
    category = mongoengine.StringField()
    note = mongoengine.StringField()
    active = mongoengine.BooleanField(default=True)
    visits_made = mongoengine.IntField(default=0)


class VisitDocument(AggregateDocument):
    """One visit; `_id` is `<pairing id>:<due time>`, so inserting it twice is refused."""

    meta = {
        "collection": "visits",
        "indexes": [["status", "complete_by"], "request_id", ["pairing_id", "-due_at"], "outbox_pending"],
    }

    id = mongoengine.StringField(primary_key=True)
    pairing_id = mongoengine.StringField(required=True)
    beneficiary_id = mongoengine.StringField()
    volunteer_ids = mongoengine.ListField(mongoengine.StringField())
    township = mongoengine.StringField()
    village = mongoengine.StringField()
    due_at = mongoengine.DateTimeField()
    complete_by = mongoengine.DateTimeField()
    status = mongoengine.StringField()
    request_id = mongoengine.StringField()
    task_id = mongoengine.StringField()
    done_at = mongoengine.DateTimeField()
    done_by = mongoengine.ListField(mongoengine.StringField())
    missed_at = mongoengine.DateTimeField()


pairings_store = AggregateStore(PairingDocument)
visits_store = AggregateStore(VisitDocument)
