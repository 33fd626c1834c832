"""The outbox relay: publishes events waiting in aggregate documents, then removes them.

An event leaves its document only after the broker confirmed it, so a crash anywhere in between
publishes it again (at-least-once); consumers drop the repeat by event id.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime

from services.common import clock, locks, tables
from services.common.ids import as_utc, utcnow
from services.common.logs import get_logger
from services.common.metrics import EVENTS_PUBLISHED, OUTBOX_BACKLOG, OUTBOX_OLDEST_SECONDS
from services.common.publisher import CONNECTION_ERRORS, ConfirmingPublisher
from services.common.store import AggregateDocument

log = get_logger(__name__)

# A batch's confirmed events per document id: (version read, events confirmed, all of those read).
Published = dict[str, tuple[int, list[dict], bool]]

# How many of a batch's per-document updates are in flight at once. The wire server runs each in a
# SQL transaction of its own and cannot take them in one statement (ADR 0061: an `$in` filter scans
# the whole table, a multi-statement update hung); in flight side by side they took a third of the
# time on the two-core machine (bench/bus_bench.py, docs/adr/0063).
CLEAR_THREADS = 4


class OutboxRelay:
    """Moves events from the outboxes of `documents` to the broker."""

    def __init__(
        self,
        service: str,
        documents: Sequence[type[AggregateDocument]],
        publisher: ConfirmingPublisher,
        *,
        batch_size: int = 200,
        poll_seconds: float = 0.1,
    ) -> None:
        self.service = service
        self.documents = list(documents)
        self.publisher = publisher
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self._last_backlog_check = 0.0
        self._clearing = ThreadPoolExecutor(CLEAR_THREADS, thread_name_prefix=f"{service}-outbox-clear")
        # Events of the last pass the broker did not confirm (nacked, or no answer in time).
        self.unconfirmed = 0

    def relay_once(self) -> int:
        """Publish one batch from each document kind; return how many events were confirmed."""
        relayed = 0
        self.unconfirmed = 0
        for document in self.documents:
            collection = tables.table(document)
            pending = collection.find({"outbox_pending": True}, limit=self.batch_size)
            events = [event for doc in pending for event in doc.get("outbox", [])]
            if not events:
                for doc in pending:
                    self._remove(collection, doc["_id"], [])
                continue
            confirmed = self.publisher.publish_batch(events)
            published: Published = {}
            for doc in pending:
                outbox = doc.get("outbox", [])
                done = [event for event in outbox if event["id"] in confirmed]
                if done:
                    published[doc["_id"]] = (doc.get("version"), done, len(done) == len(outbox))
            self._remove_many(collection, published)
            for event in events:
                if event["id"] in confirmed:
                    EVENTS_PUBLISHED.labels(self.service, event["type"]).inc()
            relayed += len(confirmed)
            self.unconfirmed += len(events) - len(confirmed)
        return relayed

    def _remove_many(self, collection: tables.Table, published: Published) -> None:
        """Take published events out of many documents: one update each plus two for all the leases.

        `published` maps a document id to (version read, its events confirmed, whether they are all
        the events read). The leases of the whole batch go in one unordered insert; a document whose
        lease is held (a writer is at it) falls back to `_remove`, which waits for it.
        """
        if not published:
            return
        if not locks.config.enabled:
            self._clear(collection, published)
            return
        keys = {f"{collection.name}:{document_id}": document_id for document_id in published}
        lease, held = locks.acquire_many(list(keys))
        try:
            mine = {keys[key]: published[keys[key]] for key in held}
            if mine:
                self._clear(collection, mine)
        finally:
            locks.release_many(lease)
        for key, document_id in keys.items():
            if key not in held:
                self._remove(collection, document_id, published[document_id][1])

    def _clear(self, collection: tables.Table, published: Published) -> None:
        """Empty the outboxes of `published` (leases held), updates side by side; raise the first error."""
        updates = [
            self._clearing.submit(self._clear_one, collection, document_id, *read)
            for document_id, read in published.items()
        ]
        # All finish before the leases go back; a failure then goes round again (its events stay).
        wait(updates)
        for update in updates:
            update.result()

    @staticmethod
    def _clear_one(
        collection: tables.Table, document_id: str, version: int, events: list[dict], complete: bool
    ) -> None:
        # Every save that adds events also bumps the version (store.py), so a document still at the
        # version read holds exactly the events read: one update empties it, where `_remove` takes
        # two. A save since, or only some events confirmed, takes `_remove`'s two. One update per
        # call: FerretDB 1.24 hung on update commands of many statements (docs/adr/0061).
        emptied = {"outbox": [], "outbox_pending": False}
        if complete and collection.update({"_id": document_id, "version": version}, set=emptied):
            return
        collection.update({"_id": document_id}, pull_all={"outbox": events})
        collection.update({"_id": document_id, "outbox": []}, set={"outbox_pending": False})

    @staticmethod
    def _remove(collection: tables.Table, document_id: str, events: list[dict]) -> None:
        """Take published events out of a document, under its lease (writers may be at it too)."""
        with locks.locked(f"{collection.name}:{document_id}"):
            if events:
                # $pullAll removes exactly these elements, as read; the wire server we test on has
                # no $pull by condition, and MongoDB treats both alike for whole documents.
                collection.update({"_id": document_id}, pull_all={"outbox": events})
            collection.update({"_id": document_id, "outbox": []}, set={"outbox_pending": False})

    def measure_backlog(self) -> None:
        """Update the backlog gauges (how many documents wait, and how old their oldest event is)."""
        waiting = 0
        oldest: datetime | None = None
        for document in self.documents:
            pending = tables.table(document).find({"outbox_pending": True})
            waiting += len(pending)
            for doc in pending[:50]:
                for event in doc.get("outbox", []):
                    occurred = as_utc(datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00")))
                    oldest = occurred if oldest is None else min(oldest, occurred)
        OUTBOX_BACKLOG.labels(self.service).set(waiting)
        # In real seconds: an operator's alert on a stuck outbox means the same at any clock speed.
        age = clock.real_seconds(utcnow() - oldest) if oldest else 0
        OUTBOX_OLDEST_SECONDS.labels(self.service).set(age)

    def run(self, stop: threading.Event, on_idle: Callable[[], None] | None = None) -> None:
        """Relay until `stop` is set, riding out broker and database outages."""
        backoff = 0.5
        while not stop.is_set():
            try:
                relayed = self.relay_once()
                self.publisher.keepalive()
                now = time.monotonic()
                if now - self._last_backlog_check > 5:
                    self._last_backlog_check = now
                    self.measure_backlog()
                    if on_idle is not None:
                        on_idle()
                if self.unconfirmed:
                    # The broker refuses them for now (e.g. a queue without a leader): they stay in
                    # the outbox; trying again at full speed would only flood the queues that took them.
                    log.warning("outbox.unconfirmed", count=self.unconfirmed, retry_in=backoff)
                    stop.wait(backoff)
                    backoff = min(backoff * 2, 10)
                    continue
                backoff = 0.5
                if relayed == 0:
                    stop.wait(self.poll_seconds)
            except CONNECTION_ERRORS as error:
                log.warning("outbox.broker_unavailable", error=str(error), retry_in=backoff)
                self.publisher.close()
                stop.wait(backoff)
                backoff = min(backoff * 2, 10)
            except Exception as error:
                log.warning("outbox.relay_failed", error=repr(error), retry_in=backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 10)
        self.publisher.close()
        self._clearing.shutdown()
