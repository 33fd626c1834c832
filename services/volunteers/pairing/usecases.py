"""Use cases of pairing (结对帮扶): beneficiaries, pairings, the visit timer and its outcomes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.common import contracts
from services.common.domain import DomainError, Missing
from services.common.events import Envelope, envelopes
from services.common.ids import new_id, utcnow
from services.common.paging import newest_first
from services.common.store import AlreadyExists, from_state, holding, to_state
from services.volunteers import SERVICE
from services.volunteers.hours import usecases as hours
from services.volunteers.metrics import PAIRING_VISITS, VISITS_DUE, VISITS_MISSED
from services.volunteers.pairing import domain
from services.volunteers.pairing.domain import Beneficiary, Pairing, Visit, VisitStatus
from services.volunteers.pairing.models import (
    BeneficiaryDocument,
    PairingDocument,
    VisitDocument,
    beneficiary_from_document,
    beneficiary_to_document,
    pairings_store,
    visits_store,
)
from services.volunteers.people import usecases as people


class UnknownBeneficiary(Missing):
    """No beneficiary with that id is registered here."""


class UnknownPairing(Missing):
    """No pairing with that id is stored here."""


class UnknownVisit(Missing):
    """No visit with that id is stored here."""


# --- beneficiaries ---------------------------------------------------------------------------------
def register_beneficiary(fields: dict[str, Any]) -> Beneficiary:
    """Store a beneficiary."""
    domain.check_beneficiary(fields.get("flags", []))
    beneficiary = Beneficiary(id=new_id(), registered_at=utcnow(), **fields)
    BeneficiaryDocument._get_collection().insert_one(beneficiary_to_document(beneficiary))
    return beneficiary


def get_beneficiary(beneficiary_id: str) -> Beneficiary:
    """A stored beneficiary."""
    document = BeneficiaryDocument._get_collection().find_one({"_id": beneficiary_id})
    if document is None:
        raise UnknownBeneficiary("no beneficiary with that id")
    return beneficiary_from_document(document)


def list_beneficiaries(
    *, township: str | None, flag: str | None, limit: int, before: str | None
) -> list[Beneficiary]:
    """Beneficiaries, newest first."""
    query: dict[str, Any] = {}
    if township:
        query["township"] = township
    if flag:
        query["flags"] = flag
    found = newest_first(BeneficiaryDocument._get_collection(), query, limit=limit, before=before)
    return [beneficiary_from_document(document) for document in found]


# --- pairings --------------------------------------------------------------------------------------
def create_pairing(fields: dict[str, Any]) -> Pairing:
    """Pair registered volunteers with a beneficiary."""
    beneficiary = get_beneficiary(fields["beneficiary_id"])
    for volunteer_id in fields["volunteer_ids"]:
        if not people.is_registered(volunteer_id):
            raise DomainError(f"no volunteer {volunteer_id}", field="volunteer_ids")
    now = utcnow()
    made = domain.new_pairing(
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
        raise UnknownPairing("no pairing with that id")
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
    found = newest_first(
        PairingDocument._get_collection(), query, limit=limit, before=before, projection={"outbox": 0}
    )
    return [from_state(Pairing, document) for document in found]


@holding(pairings_store, lambda pairing_id, *_args: pairing_id)
def end_pairing(pairing_id: str) -> Pairing:
    """End a pairing; no more visits fall due."""
    made = get_pairing(pairing_id)
    domain.end(made)
    pairings_store.save(made.id, made.version, {"active": False}, [])
    return made


# --- visits ----------------------------------------------------------------------------------------
def get_visit(visit_id: str) -> Visit:
    """A stored visit."""
    document = visits_store.get(visit_id)
    if document is None:
        raise UnknownVisit("no visit with that id")
    return from_state(Visit, document, status=VisitStatus)


def list_visits(
    *, township: str | None, status: str | None, pairing_id: str | None, limit: int, before: str | None
) -> list[Visit]:
    """Visits, highest id first (a pairing's latest due visit first)."""
    query: dict[str, Any] = {}
    if township:
        query["township"] = township
    if status:
        query["status"] = status
    if pairing_id:
        query["pairing_id"] = pairing_id
    found = newest_first(
        VisitDocument._get_collection(), query, limit=limit, before=before, projection={"outbox": 0}
    )
    return [from_state(Visit, document, status=VisitStatus) for document in found]


def sweep(now: datetime | None = None) -> dict[str, int]:
    """The periodic job: make the visits that fell due, flag the ones missed, measure them all."""
    now = now or utcnow()
    made = flagged = 0
    due = PairingDocument._get_collection().find({"active": True, "next_due_at": {"$lte": now}}, {"_id": 1})
    for document in due:
        made += _make_due_visit(document["_id"], now)
    overdue = VisitDocument._get_collection().find(
        {"status": {"$in": [s.value for s in domain.OPEN_VISITS]}, "complete_by": {"$lt": now}}, {"_id": 1}
    )
    for document in overdue:
        flagged += _flag_if_missed(document["_id"], now)
    measure_visits()
    return {"made": made, "missed": flagged}


@holding(pairings_store, lambda pairing_id, *_args: pairing_id)
def _make_due_visit(pairing_id: str, now: datetime) -> int:
    made = get_pairing(pairing_id)
    due = domain.due_visit(made, get_beneficiary(made.beneficiary_id), now)
    if due is None:
        return 0
    visit, announcement = due
    created = 1
    try:
        visits_store.insert(
            visit.id, to_state(visit), envelopes([announcement], producer=SERVICE, correlation_id=visit.id)
        )
        VISITS_DUE.labels(visit.township).inc()
    except AlreadyExists:
        created = 0  # made before a crash or by another worker; only the schedule still has to move
    domain.advance(made, visit.due_at, now)
    pairings_store.save(
        made.id, made.version, {"next_due_at": made.next_due_at, "visits_made": made.visits_made}, []
    )
    return created


@holding(visits_store, lambda visit_id, *_args: visit_id)
def _flag_if_missed(visit_id: str, now: datetime) -> int:
    visit = get_visit(visit_id)
    if not domain.miss_if_overdue(visit, now):
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
    credits = hours.credits_of_request(data.request_id)
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
    if domain.link_request(visit, request_id):
        visits_store.save(visit.id, visit.version, to_state(visit), [])


@holding(visits_store, lambda visit_id, *_args: visit_id)
def _complete(visit_id: str, task_id: str, participants: list[str], completed_at: datetime) -> None:
    visit = get_visit(visit_id)
    if domain.complete(visit, task_id, participants, completed_at):
        visits_store.save(visit.id, visit.version, to_state(visit), [])
