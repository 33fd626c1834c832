"""Use cases of pairing (结对帮扶): beneficiaries, pairings, the visit timer and its outcomes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import mongoengine
from pymongo import DESCENDING

from services.common import contracts
from services.common.events import Envelope, make_event
from services.common.ids import new_id, utcnow
from services.common.store import (
    AggregateDocument,
    AggregateStore,
    AlreadyExists,
    from_state,
    holding,
    to_state,
)
from services.volunteers.metrics import PAIRING_VISITS, VISITS_DUE, VISITS_MISSED
from services.volunteers.pairing import domain as pairing
from services.volunteers.pairing.domain import Beneficiary, Pairing, Visit, VisitStatus
from services.volunteers.tasks import usecases
from services.volunteers.tasks.models import HoursEntry, volunteers_store


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


# --- beneficiaries ---------------------------------------------------------------------------------
def register_beneficiary(fields: dict[str, Any]) -> Beneficiary:
    """Store a beneficiary."""
    pairing.check_beneficiary(fields.get("flags", []))
    beneficiary = Beneficiary(id=new_id(), registered_at=utcnow(), **fields)
    BeneficiaryDocument._get_collection().insert_one({"_id": beneficiary.id, **to_state(beneficiary)})
    return beneficiary


def get_beneficiary(beneficiary_id: str) -> Beneficiary:
    """A stored beneficiary."""
    document = BeneficiaryDocument._get_collection().find_one({"_id": beneficiary_id})
    if document is None:
        raise usecases.NotFoundHere("no beneficiary with that id")
    return from_state(Beneficiary, document)


def list_beneficiaries(
    *, township: str | None, flag: str | None, limit: int, before: str | None
) -> list[Beneficiary]:
    """Beneficiaries, newest first."""
    query: dict[str, Any] = {}
    if township:
        query["township"] = township
    if flag:
        query["flags"] = flag
    if before:
        query["_id"] = {"$lt": before}
    cursor = BeneficiaryDocument._get_collection().find(query).sort([("_id", DESCENDING)]).limit(limit)
    return [from_state(Beneficiary, document) for document in cursor]


# --- pairings --------------------------------------------------------------------------------------
def create_pairing(fields: dict[str, Any]) -> Pairing:
    """Pair registered volunteers with a beneficiary."""
    beneficiary = get_beneficiary(fields["beneficiary_id"])
    for volunteer_id in fields["volunteer_ids"]:
        if volunteers_store.get(volunteer_id) is None:
            raise pairing.DomainError(f"no volunteer {volunteer_id}", field="volunteer_ids")
    now = utcnow()
    made = pairing.new_pairing(
        pairing_id=new_id(),
        beneficiary=beneficiary,
        volunteer_ids=fields["volunteer_ids"],
        every_days=fields["every_days"],
        grace_hours=fields["grace_hours"],
        first_visit_at=fields.get("first_visit_at") or now,
        category=fields["category"],
        note=fields.get("note"),
        now=now,
    )
    pairings_store.insert(made.id, to_state(made), [])
    return made


def get_pairing(pairing_id: str) -> Pairing:
    """A stored pairing."""
    document = pairings_store.get(pairing_id)
    if document is None:
        raise usecases.NotFoundHere("no pairing with that id")
    return from_state(Pairing, document)


def list_pairings(
    *, township: str | None, volunteer_id: str | None, active: bool | None, limit: int, before: str | None
) -> list[Pairing]:
    """Pairings, newest first."""
    query: dict[str, Any] = {}
    if township:
        query["township"] = township
    if volunteer_id:
        query["volunteer_ids"] = volunteer_id
    if active is not None:
        query["active"] = active
    if before:
        query["_id"] = {"$lt": before}
    cursor = (
        PairingDocument._get_collection().find(query, {"outbox": 0}).sort([("_id", DESCENDING)]).limit(limit)
    )
    return [from_state(Pairing, document) for document in cursor]


@holding(pairings_store, lambda pairing_id, *_args: pairing_id)
def end_pairing(pairing_id: str) -> Pairing:
    """End a pairing; no more visits fall due."""
    made = get_pairing(pairing_id)
    pairing.end(made)
    pairings_store.save(made.id, made.version, {"active": False}, [])
    return made


# --- visits ----------------------------------------------------------------------------------------
def get_visit(visit_id: str) -> Visit:
    """A stored visit."""
    document = visits_store.get(visit_id)
    if document is None:
        raise usecases.NotFoundHere("no visit with that id")
    return from_state(Visit, document, status=VisitStatus)


def list_visits(
    *, township: str | None, status: str | None, pairing_id: str | None, limit: int, before: str | None
) -> list[Visit]:
    """Visits, newest due first."""
    query: dict[str, Any] = {}
    if township:
        query["township"] = township
    if status:
        query["status"] = status
    if pairing_id:
        query["pairing_id"] = pairing_id
    if before:
        query["_id"] = {"$lt": before}
    cursor = (
        VisitDocument._get_collection().find(query, {"outbox": 0}).sort([("_id", DESCENDING)]).limit(limit)
    )
    return [from_state(Visit, document, status=VisitStatus) for document in cursor]


def sweep(now: datetime | None = None) -> dict[str, int]:
    """The periodic job: make the visits that fell due, flag the ones missed, measure them all."""
    now = now or utcnow()
    made = flagged = 0
    due = PairingDocument._get_collection().find({"active": True, "next_due_at": {"$lte": now}}, {"_id": 1})
    for document in due:
        made += _make_due_visit(document["_id"], now)
    overdue = VisitDocument._get_collection().find(
        {"status": {"$in": [s.value for s in pairing.OPEN_VISITS]}, "complete_by": {"$lt": now}}, {"_id": 1}
    )
    for document in overdue:
        flagged += _flag_if_missed(document["_id"], now)
    measure_visits()
    return {"made": made, "missed": flagged}


@holding(pairings_store, lambda pairing_id, *_args: pairing_id)
def _make_due_visit(pairing_id: str, now: datetime) -> int:
    made = get_pairing(pairing_id)
    due = pairing.due_visit(made, get_beneficiary(made.beneficiary_id), now)
    if due is None:
        return 0
    visit, announcement = due
    created = 1
    try:
        envelope = make_event(
            announcement, producer=usecases.PRODUCER, correlation_id=visit.id, event_id=new_id()
        )
        visits_store.insert(visit.id, to_state(visit), [envelope])
        VISITS_DUE.labels(visit.township).inc()
    except AlreadyExists:
        created = 0  # made before a crash or by another worker; only the schedule still has to move
    pairing.advance(made, visit.due_at, now)
    pairings_store.save(
        made.id, made.version, {"next_due_at": made.next_due_at, "visits_made": made.visits_made}, []
    )
    return created


@holding(visits_store, lambda visit_id, *_args: visit_id)
def _flag_if_missed(visit_id: str, now: datetime) -> int:
    visit = get_visit(visit_id)
    if not pairing.miss_if_overdue(visit, now):
        return 0
    visits_store.save(visit.id, visit.version, to_state(visit), [])
    VISITS_MISSED.labels(visit.township).inc()
    return 1


def measure_visits() -> None:
    """Set the visits gauge from the store."""
    rows = VisitDocument._get_collection().aggregate(
        [{"$group": {"_id": {"township": "$township", "status": "$status"}, "count": {"$sum": 1}}}]
    )
    PAIRING_VISITS.clear()
    for row in rows:
        PAIRING_VISITS.labels(row["_id"]["township"], row["_id"]["status"]).set(row["count"])


# --- events ----------------------------------------------------------------------------------------
def on_request_submitted(envelope: Envelope, data: contracts.RequestSubmitted) -> None:
    """A pairing visit became an order: remember which request serves it."""
    if data.source != "pairing" or not data.source_ref or visits_store.get(data.source_ref) is None:
        return
    _link(data.source_ref, data.request_id)
    # The task may have completed before this event got here (events arrive in any order): its
    # hours are in the ledger, credited from `task.completed` whatever the order.
    credits = list(
        HoursEntry._get_collection().find({"request_id": data.request_id, "kind": {"$ne": "correction"}})
    )
    if credits:
        done_by = [credit["volunteer_id"] for credit in credits]
        _complete(data.source_ref, credits[0]["task_id"], done_by, credits[0].get("completed_at") or utcnow())


def on_task_completed(envelope: Envelope, data: contracts.TaskCompleted) -> None:
    """The visit's task was completed: the visit is done."""
    document = VisitDocument._get_collection().find_one({"request_id": data.request_id}, {"_id": 1})
    if document is not None:
        participants = [p.volunteer_id for p in data.participants]
        _complete(document["_id"], data.task_id, participants, data.completed_at)


@holding(visits_store, lambda visit_id, *_args: visit_id)
def _link(visit_id: str, request_id: str) -> None:
    visit = get_visit(visit_id)
    if pairing.link_request(visit, request_id):
        visits_store.save(visit.id, visit.version, to_state(visit), [])


@holding(visits_store, lambda visit_id, *_args: visit_id)
def _complete(visit_id: str, task_id: str, participants: list[str], completed_at: datetime) -> None:
    visit = get_visit(visit_id)
    if pairing.complete(visit, task_id, participants, completed_at):
        visits_store.save(visit.id, visit.version, to_state(visit), [])


# Documents this module adds: the worker relays the visits' outbox and indexes the rest.
OUTBOX_DOCUMENTS: tuple[type[AggregateDocument], ...] = (VisitDocument, PairingDocument)
OTHER_DOCUMENTS: tuple[type[mongoengine.Document], ...] = (BeneficiaryDocument,)
