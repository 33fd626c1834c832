"""Use cases of the audit trail: keep an entry once (from its event or from this service), read pages."""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from services.accounts.audit.models import AuditEntryDocument
from services.common import contracts
from services.common.events import Envelope
from services.common.ids import new_id
from services.common.paging import newest_first

COUNTY = "county"


def keep(entry: contracts.AuditRecorded, entry_id: str, producer: str, correlation_id: str | None) -> bool:
    """Store an entry under its id; False when it was stored already (a redelivered event)."""
    document = {
        "_id": entry_id,
        **entry.model_dump(),
        "township_key": entry.township or COUNTY,
        "producer": producer,
        "correlation_id": correlation_id,
    }
    try:
        AuditEntryDocument._get_collection().insert_one(document)
    except DuplicateKeyError:
        return False
    return True


def on_audit_recorded(envelope: Envelope, data: contracts.AuditRecorded) -> None:
    """An entry from another stage's outbox: kept once, whatever the deliveries."""
    keep(data, envelope.id, envelope.producer, envelope.correlation_id)


def record(entry: contracts.AuditRecorded, correlation_id: str | None) -> str:
    """An entry of this service's own actions (account changes); its id."""
    entry_id = new_id()
    keep(entry, entry_id, "accounts", correlation_id)
    return entry_id


def list_entries(
    *, township: str | None, actor: str | None, subject_id: str | None, limit: int, before: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of entries newest first, by record, actor or township (each an indexed equality), and
    the cursor of the next page."""
    query: dict[str, str] = {}
    if subject_id:
        query["subject_id"] = subject_id
    elif actor:
        query["actor"] = actor
    elif township:
        query["township_key"] = township
    found = newest_first(AuditEntryDocument._get_collection(), query, limit=limit, before=before)
    cursor = found[-1]["_id"] if found and len(found) == limit else None
    # The rest of the filters apply to the small set the indexed one selected.
    kept = [
        document
        for document in found
        if (actor is None or document["actor"] == actor)
        and (township is None or document.get("township_key") == township)
    ]
    return kept, cursor
