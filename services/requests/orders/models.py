"""How the requests stage stores its aggregates (mongoengine documents) and maps them to the domain."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

import mongoengine

from services.common import personal
from services.common.ids import as_utc
from services.common.rollups import Contribution
from services.common.store import AggregateDocument, AggregateStore, DocumentStore, Shelf
from services.requests.figures import OPEN_REQUESTS, ROLLOUT
from services.requests.orders.domain import SIDE_EXITS, ServiceRequest, Status, TimelineEntry, similar_key

# Lists of requests: a resident's own, a township's, the whole county's, the wish wall.
RESIDENT = Shelf("resident", lambda d: d.get("resident_id"))
TOWNSHIP = Shelf("township", lambda d: d.get("township"))
COUNTY = Shelf("county", lambda d: "county")
WISHES = Shelf("wishes", lambda d: "wishes" if d.get("source") == "wish" else None)
CLOSED_STATUSES = (Status.CLOSED.value, *(status.value for status in SIDE_EXITS))


class RequestDocument(AggregateDocument):
    """One resident request, its timeline and its outbox."""

    meta = {
        "collection": "requests",
        "indexes": [
            {"fields": ["code"], "unique": True},
            # "<resident>:<Idempotency-Key>", or the request id when no key was sent.
            {"fields": ["idempotency_scope"], "unique": True},
            "outbox_pending",
            "rollups_pending",
            # An Open311 token, a patrol report or a pairing visit: the order made from it.
            "source_ref",
            # Open311's searches by period walk the hours of the period (at most 90 days).
            "submitted_hour",
            *(shelf.field for shelf in (RESIDENT, TOWNSHIP, COUNTY, WISHES)),
            # Suggesting duplicates before an order: one equality per day looked back (docs/adr/0086).
            "similar_key",
        ],
    }

    id = mongoengine.StringField(primary_key=True)
    code = mongoengine.StringField(required=True)
    idempotency_scope = mongoengine.StringField(required=True)
    # The fingerprint of the body the key came with: the same key with another body is refused.
    idempotency_fingerprint = mongoengine.StringField()
    resident_id = mongoengine.StringField(required=True)
    category = mongoengine.StringField(required=True)
    title = mongoengine.StringField(required=True)
    description = mongoengine.StringField(required=True)
    township = mongoengine.StringField(required=True)
    village = mongoengine.StringField(required=True)
    address = mongoengine.StringField()
    urgency = mongoengine.StringField(default="normal")
    window_start = mongoengine.DateTimeField()
    window_end = mongoengine.DateTimeField()
    contact_phone = mongoengine.StringField()
    status = mongoengine.StringField(required=True)
    submitted_at = mongoengine.DateTimeField(required=True)
    updated_at = mongoengine.DateTimeField()
    timeline = mongoengine.ListField(mongoengine.DictField())
    volunteer_id = mongoengine.StringField()
    rating_score = mongoengine.IntField()
    service_code = mongoengine.StringField()
    source = mongoengine.StringField(default="resident")
    source_ref = mongoengine.StringField()
    station_id = mongoengine.StringField()
    station = mongoengine.StringField()
    latitude = mongoengine.FloatField()
    longitude = mongoengine.FloatField()
    source_details = mongoengine.DictField()
    submitted_hour = mongoengine.StringField()
    resident_shelf = mongoengine.StringField()
    township_shelf = mongoengine.StringField()
    county_shelf = mongoengine.StringField()
    wishes_shelf = mongoengine.StringField()
    similar_key = mongoengine.StringField()


class DailyCounter(mongoengine.Document):
    """Sequence numbers for the human request codes of one day."""

    meta = {"collection": "counters"}

    id = mongoengine.StringField(primary_key=True)
    value = mongoengine.IntField(default=0)


def request_rollups(document: Mapping[str, Any], _now: datetime) -> Contribution:
    """What a request counts for: its submission in the county report, and its stage while open."""
    township, submitted_at = document.get("township"), document.get("submitted_at")
    counted: Contribution = {}
    ROLLOUT.add(counted, township, submitted_at, "submitted")
    if document.get("status") not in CLOSED_STATUSES:
        OPEN_REQUESTS.add(counted, township, submitted_at, str(document.get("status")))
    return counted


# A new request's figures are settled by the worker's sweep, many at once, not on the resident's POST.
requests_store = AggregateStore(
    RequestDocument,
    shelves=(RESIDENT, TOWNSHIP, COUNTY, WISHES),
    rollups=request_rollups,
    settle_inserts_later=True,
)
counters_store = DocumentStore(DailyCounter)


# Codes are claimed from the day's counter in blocks, one block per process at a time: one counter
# update per CODE_BLOCK orders instead of one per order (docs/adr/0062). Codes stay unique (the
# unique index on `code`) and rise within a process; across processes they interleave, and a
# stopped process leaves the rest of its block unused.
CODE_BLOCK = 10
_code_blocks: dict[str, tuple[int, int]] = {}  # day → (next number, last number of the block)
_code_lock = threading.Lock()


def next_code(day: datetime) -> str:
    """`GT-20261129-0042`: the county prefix, the day, and a sequence number of that day."""
    key = f"{day:%Y%m%d}"
    with _code_lock:
        number, last = _code_blocks.get(key, (1, 0))
        if number > last:
            last = int(counters_store.increment(f"request-code:{key}", "value", by=CODE_BLOCK)["value"])
            number = last - CODE_BLOCK + 1
            _code_blocks.clear()  # blocks of earlier days are done with
        _code_blocks[key] = (number + 1, last)
    return f"GT-{key}-{number:04d}"


def forget_code_block(day: datetime) -> None:
    """Drop this process's block for `day` (another process was handed the same numbers)."""
    with _code_lock:
        _code_blocks.pop(f"{day:%Y%m%d}", None)


def to_document(request: ServiceRequest) -> dict[str, Any]:
    """The stored fields of a request (without id, version and outbox)."""
    state = asdict(request)
    state.pop("id")
    state.pop("version")
    state["status"] = request.status.value
    # Sealed at rest (docs/adr/0095): the resident's phone and street address.
    state["contact_phone"] = personal.seal(request.contact_phone)
    state["address"] = personal.seal(request.address)
    state["similar_key"] = similar_key(
        request.township, request.village, request.category, request.submitted_at
    )
    state["timeline"] = [
        {**asdict(entry), "status": entry.status.value if entry.status else None}
        for entry in request.timeline
    ]
    state["submitted_hour"] = f"{as_utc(request.submitted_at):%Y-%m-%dT%H}"
    return state


def from_document(document: dict[str, Any]) -> ServiceRequest:
    """A domain request from its stored document."""
    timeline = [
        TimelineEntry(
            event_id=entry["event_id"],
            kind=entry["kind"],
            at=as_utc(entry["at"]),
            actor=entry["actor"],
            text_zh=entry["text_zh"],
            text_en=entry["text_en"],
            status=Status(entry["status"]) if entry.get("status") else None,
            note=entry.get("note"),
            actor_id=entry.get("actor_id"),
            amount=entry.get("amount"),
        )
        for entry in document.get("timeline", [])
    ]
    return ServiceRequest(
        id=document["_id"],
        code=document["code"],
        resident_id=document["resident_id"],
        category=document["category"],
        title=document["title"],
        description=document["description"],
        township=document["township"],
        village=document["village"],
        submitted_at=as_utc(document["submitted_at"]),
        address=personal.unseal(document.get("address")),
        urgency=document.get("urgency", "normal"),
        window_start=_maybe_utc(document.get("window_start")),
        window_end=_maybe_utc(document.get("window_end")),
        contact_phone=personal.unseal(document.get("contact_phone")),
        timeline=timeline,
        volunteer_id=document.get("volunteer_id"),
        rating_score=document.get("rating_score"),
        service_code=document.get("service_code"),
        version=document.get("version", 1),
        source=document.get("source") or "resident",
        source_ref=document.get("source_ref"),
        station_id=document.get("station_id"),
        station=document.get("station"),
        latitude=document.get("latitude"),
        longitude=document.get("longitude"),
        source_details=document.get("source_details") or None,
    )


def _maybe_utc(moment: datetime | None) -> datetime | None:
    return as_utc(moment) if moment else None
