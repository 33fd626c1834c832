"""The rollups sweep's pass: documents left flagged are settled together (docs/adr/0064).

Each rollup node the pass touches is written once, however many of its documents it settles, and
without the documents' leases, which writers would otherwise wait for all along. Then, under the
leases (one insert for all, waiting only for those a writer holds), each document is read again: if
what it contributes is still what was written, it is marked settled; if a writer changed it
meanwhile, every leaf it was or is in is set to what it contributes now before it is marked (set,
never added: doing it twice changes nothing).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from services.common import locks, rollups
from services.common.ids import utcnow

if TYPE_CHECKING:
    from services.common.store import DocumentStore

# How many flagged documents one pass settles together: the more, the fewer writes of each rollup
# node per document; the pass re-reads each under its lease at the end, one at a time.
BATCH = 50


def settle_together(store: DocumentStore, documents: list[dict[str, Any]]) -> int:
    """Settle these flagged documents of `store` in one pass; return how many."""
    assert store.rollups is not None
    now = utcnow()
    wanted_then = {document["_id"]: store.rollups(document, now) for document in documents}
    changes: dict[str, dict[str, Mapping[str, float] | None]] = {}
    for document in documents:
        applied, wanted = document.get("rollups_applied") or {}, wanted_then[document["_id"]]
        member = rollups.member_key(store.name, document["_id"])
        for leaf in set(applied) | set(wanted):
            if applied.get(leaf) != wanted.get(leaf):
                changes.setdefault(leaf, {})[member] = wanted.get(leaf)
    rollups.apply_many(changes)
    keys = {f"{store.name}:{document['_id']}": document for document in documents}
    lease, held = locks.acquire_many(list(keys)) if locks.config.enabled else (None, list(keys))
    try:
        for key, read in keys.items():
            with contextlib.nullcontext() if key in held else locks.locked(key):
                _mark_settled(store, read, wanted_then[read["_id"]], now)
    finally:
        if lease is not None:
            locks.release_many(lease)
    return len(documents)


def _mark_settled(
    store: DocumentStore, read: Mapping[str, Any], written: rollups.Contribution, now: datetime
) -> None:
    """Under the document's lease: record what the rollups hold for it, mending them if it changed."""
    assert store.rollups is not None
    document = store.table.get(read["_id"], exclude=("outbox",))
    if document is None:
        return
    wanted = store.rollups(document, now)
    if wanted != written:
        member = rollups.member_key(store.name, document["_id"])
        touched = set(read.get("rollups_applied") or {}) | set(written)
        touched |= set(document.get("rollups_applied") or {}) | set(wanted)
        rollups.apply_many({leaf: {member: wanted.get(leaf)} for leaf in touched})
    store.table.update({"_id": document["_id"]}, set={"rollups_applied": wanted, "rollups_pending": False})
