"""How beneficiaries, pairings and their visits are stored."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import mongoengine

from services.common import personal
from services.common.ids import as_utc
from services.common.rollups import Contribution
from services.common.store import (
    AggregateDocument,
    AggregateStore,
    DocumentStore,
    Shelf,
    from_state,
    to_state,
)
from services.common.sweeps import bucket
from services.volunteers.figures import VISITS
from services.volunteers.pairing.domain import OPEN_VISITS, Beneficiary, Pairing, Visit

TOWNSHIP = Shelf("township", lambda d: d.get("township"))
COUNTY = Shelf("county", lambda d: "county")
PAIRING = Shelf("pairing", lambda d: d.get("pairing_id"))
# Sealed at rest (docs/adr/0095): who the paired elder is, where they live, how to reach them.
SEALED_BENEFICIARY_FIELDS = ("name", "address", "phone")


class BeneficiaryDocument(mongoengine.Document):
    meta = {"collection": "beneficiaries", "indexes": [TOWNSHIP.field, COUNTY.field]}

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
    township_shelf = mongoengine.StringField()
    county_shelf = mongoengine.StringField()


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
    meta = {
        "collection": "pairings",
        # The sweep visits pairings by the minute their next visit falls due; a volunteer's pairings.
        "indexes": ["due_minute", "volunteer_ids", TOWNSHIP.field, COUNTY.field],
    }

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
    due_minute = mongoengine.StringField()
    township_shelf = mongoengine.StringField()
    county_shelf = mongoengine.StringField()


class VisitDocument(AggregateDocument):
    """One visit; `_id` is `<pairing id>:<due time>`, so inserting it twice is refused."""

    meta = {
        "collection": "visits",
        # The sweep visits open visits by the minute they fall missed.
        "indexes": [
            "miss_minute",
            "request_id",
            "outbox_pending",
            "rollups_pending",
            *(shelf.field for shelf in (PAIRING, TOWNSHIP, COUNTY)),
        ],
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
    miss_minute = mongoengine.StringField()
    pairing_shelf = mongoengine.StringField()
    township_shelf = mongoengine.StringField()
    county_shelf = mongoengine.StringField()


def _minute(moment: datetime, now: datetime) -> str:
    """The minute a sweep should look at something due at `moment` (now, if that has passed)."""
    return bucket(max(as_utc(moment), now))


def pairing_state(pairing: Pairing, now: datetime) -> dict[str, Any]:
    """A pairing's stored fields, with the minute its next visit falls due while it is active."""
    return {**to_state(pairing), "due_minute": _minute(pairing.next_due_at, now) if pairing.active else None}


def visit_state(visit: Visit, now: datetime) -> dict[str, Any]:
    """A visit's stored fields, with the minute it falls missed while it is open."""
    open_ = visit.status in OPEN_VISITS and visit.complete_by is not None
    return {**to_state(visit), "miss_minute": _minute(visit.complete_by, now) if open_ else None}


def visit_rollups(document: Mapping[str, Any], _now: datetime) -> Contribution:
    """A visit counts by its status for its township."""
    counted: Contribution = {}
    VISITS.add(counted, document.get("township"), document.get("due_at"), str(document.get("status")))
    return counted


beneficiaries_store = DocumentStore(BeneficiaryDocument, shelves=(TOWNSHIP, COUNTY))
pairings_store = AggregateStore(PairingDocument, shelves=(TOWNSHIP, COUNTY))
visits_store = AggregateStore(VisitDocument, shelves=(PAIRING, TOWNSHIP, COUNTY), rollups=visit_rollups)
