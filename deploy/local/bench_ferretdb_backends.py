#!/usr/bin/env python3
"""Benchmark FerretDB's SQLite backend against its PostgreSQL backend.

The workload mirrors civicloop's services: aggregate documents (~1.5 KB each)
with an optimistic-concurrency ``version``, a transactional ``outbox`` array
and an ``outbox_pending`` flag drained by a relay.

Both FerretDB servers must already be running on 127.0.0.1 (one started with
``--handler=sqlite``, one with ``--handler=postgresql``). The script runs the
two backends side by side: every round runs each backend once, and the order
alternates per round (SQLite first in odd rounds, PostgreSQL first in even
ones) so that slow drift on a noisy machine hits both alike. Each run uses a
fresh database that is preloaded with ``--docs`` documents and dropped at the
end; the insert workload runs last so the others all see ``--docs`` documents.

Workloads (each measured for ``--seconds`` of wall time):

1. ``insert_one`` of new documents, single client, sequential.
2. Conditional update: ``update_one({_id, version}, {$set, $inc, $push})``.
3. Relay: ``find({outbox_pending: true}).limit(100)``, then per event a
   ``$pull`` and per document a clearing ``update_one({_id, outbox: []})``.
   FerretDB 1.24 treats ``$pull: {outbox: {id: E}}`` as exact equality with
   the whole element (a silent no-op), so by default the relay pulls the whole
   event subdocument as read (``--relay-pull exact``); ``--relay-pull partial``
   runs the query form and counts the no-ops.
4. Indexed lookups: ``find_one({_id})`` and a township/status query sorted by
   ``submitted_at`` descending, limit 20.
5. Four threads doing workload 2 concurrently (disjoint documents).

Before the rounds, a capability check runs on each backend and reports
OK/FAIL per feature (including whether a TTL index deletes expired
documents within ``--ttl-wait`` seconds).

Results (medians, per-round values and SQLite/PostgreSQL ratios) and the
capability check are written as Markdown to ``--out``.

Example::

    python bench_ferretdb_backends.py --sqlite-port 27018 --pg-port 27019 \
        --rounds 3 --docs 10000 --out ferretdb-backends.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import bson
import pymongo
from pymongo import MongoClient, ReturnDocument
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, OperationFailure

HOST = "127.0.0.1"
COLL = "requests"
STATUSES = ("submitted", "triaged", "in_progress", "resolved", "closed")
TOWNSHIPS = tuple(f"township-{n:02d}" for n in range(20))
CATEGORIES = ("pothole", "streetlight", "waste", "water", "noise", "graffiti")
LOREM = (
    "Residents report a recurring problem near the corner of the main road "
    "and the market lane; the issue has been visible for several weeks and "
    "affects pedestrians, cyclists and the weekly market traders. "
)
THREADS = 4
RELAY_BATCH = 100


def log(msg: str) -> None:
    """Print a timestamped progress line."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def now() -> dt.datetime:
    """Return the current UTC time, truncated to milliseconds (BSON precision)."""
    t = dt.datetime.now(dt.UTC)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def make_event(rng: random.Random, status: str) -> dict[str, Any]:
    """Build one small outbox event."""
    return {
        "id": uuid.UUID(int=rng.getrandbits(128)).hex,
        "type": "RequestStatusChanged",
        "status": status,
        "at": now(),
    }


def make_doc(rng: random.Random, pending_events: int = 0) -> dict[str, Any]:
    """Build one aggregate document of roughly 1.5 KB."""
    status = rng.choice(STATUSES)
    created = now() - dt.timedelta(seconds=rng.randrange(0, 90 * 86400))
    outbox = [make_event(rng, status) for _ in range(pending_events)]
    return {
        "_id": "req-" + uuid.UUID(int=rng.getrandbits(128)).hex,
        "version": 1,
        "status": status,
        "township": rng.choice(TOWNSHIPS),
        "outbox": outbox,
        "outbox_pending": bool(outbox),
        "submitted_at": created,
        "updated_at": created,
        "category": rng.choice(CATEGORIES),
        "title": f"Issue reported near landmark {rng.randrange(10_000)}",
        "description": LOREM * 3,
        "reporter_name": f"Citizen {rng.randrange(100_000)}",
        "reporter_email": f"citizen{rng.randrange(100_000)}@example.org",
        "reporter_phone": f"+000{rng.randrange(10**9):09d}",
        "address": f"{rng.randrange(1, 500)} Market Lane, Ward {rng.randrange(1, 40)}",
        "ward": rng.randrange(1, 40),
        "lat": rng.uniform(-34.0, -33.0),
        "lng": rng.uniform(18.0, 19.0),
        "priority": rng.randrange(1, 5),
        "votes": rng.randrange(0, 200),
        "assigned_to": f"officer-{rng.randrange(300)}",
        "channel": rng.choice(("web", "sms", "app", "phone")),
        "language": rng.choice(("en", "af", "xh", "zu")),
        "is_public": rng.random() < 0.8,
    }


@dataclass
class RunResult:
    """Throughput figures (per second) and counters of one backend run."""

    rates: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


WORKLOADS: list[tuple[str, str]] = [
    ("preload", "preload insert_many, batches of 500 (docs/s, informational)"),
    ("w1_insert", "1. insert_one, sequential (ops/s)"),
    ("w2_update", "2. conditional update_one $set/$inc/$push (ops/s)"),
    ("w3_relay", "3. relay find+$pull+clear (events/s)"),
    ("w4_find_id", "4a. find_one({_id}) (ops/s)"),
    ("w4_query", "4b. find township+status, sort submitted_at desc, limit 20 (ops/s)"),
    ("w5_concurrent", f"5. {THREADS} threads of workload 2, total (ops/s)"),
]


class Bench:
    """Runs the workloads against one FerretDB backend."""

    def __init__(self, name: str, port: int, seconds: float, docs: int, seed: int, relay_pull: str) -> None:
        self.name = name
        self.relay_pull = relay_pull
        self.explain_lines: list[str] = []
        self.port = port
        self.seconds = seconds
        self.docs = docs
        self.rng = random.Random(seed)
        self.client: MongoClient[dict[str, Any]] = MongoClient(
            f"mongodb://{HOST}:{port}/", serverSelectionTimeoutMS=5000, maxPoolSize=16
        )

    def run(self, round_no: int) -> RunResult:
        """Run all workloads on a fresh database and return the figures."""
        db_name = f"bench_r{round_no}"
        self.client.drop_database(db_name)
        coll = self.client[db_name][COLL]
        res = RunResult()
        try:
            versions = self._preload(coll, res)
            if not self.explain_lines:
                self.explain_lines = explain_hot_queries(coll)
            ids = list(versions)
            # Inserts run last so that workloads 2-5 all see exactly --docs documents.
            self._w4_lookups(coll, ids, res)
            self._w2_update(coll, ids, versions, res)
            self._w5_concurrent(coll, ids, versions, res)
            self._w3_relay(coll, res)
            self._w1_insert(coll, res)
        finally:
            self.client.drop_database(db_name)
        return res

    def _timed(self, label: str, fn: Callable[[], int]) -> tuple[int, float]:
        """Call ``fn`` (one op, returns units done) until ``seconds`` elapse."""
        units = 0
        start = time.perf_counter()
        deadline = start + self.seconds
        while time.perf_counter() < deadline:
            units += fn()
        elapsed = time.perf_counter() - start
        log(f"  {self.name:<10} {label:<14} {units:>7} in {elapsed:5.1f}s = {units / elapsed:8.1f}/s")
        return units, elapsed

    def _preload(self, coll: Collection[dict[str, Any]], res: RunResult) -> dict[str, int]:
        coll.create_index([("township", 1), ("status", 1), ("submitted_at", -1)])
        coll.create_index([("outbox_pending", 1)])
        start = time.perf_counter()
        versions: dict[str, int] = {}
        batch: list[dict[str, Any]] = []
        for i in range(self.docs):
            # 10 % of the preloaded documents carry 1-3 undelivered events.
            pending = self.rng.randint(1, 3) if i % 10 == 0 else 0
            doc = make_doc(self.rng, pending)
            versions[doc["_id"]] = 1
            batch.append(doc)
            if len(batch) == 500:
                coll.insert_many(batch, ordered=False)
                batch = []
        if batch:
            coll.insert_many(batch, ordered=False)
        elapsed = time.perf_counter() - start
        rate = self.docs / elapsed
        res.rates["preload"] = rate
        log(f"  {self.name:<10} {'preload':<14} {self.docs:>7} in {elapsed:5.1f}s = {rate:8.1f}/s")
        return versions

    def _w1_insert(self, coll: Collection[dict[str, Any]], res: RunResult) -> None:
        def op() -> int:
            coll.insert_one(make_doc(self.rng))
            return 1

        n, el = self._timed("w1_insert", op)
        res.rates["w1_insert"] = n / el

    def _update_op(
        self,
        coll: Collection[dict[str, Any]],
        doc_id: str,
        versions: dict[str, int],
        rng: random.Random,
    ) -> bool:
        """One conditional update as our repositories do it; True if it matched."""
        v = versions[doc_id]
        status = rng.choice(STATUSES)
        r = coll.update_one(
            {"_id": doc_id, "version": v},
            {
                "$set": {
                    "status": status,
                    "updated_at": now(),
                    "assigned_to": f"officer-{rng.randrange(300)}",
                    "priority": rng.randrange(1, 5),
                    "votes": rng.randrange(0, 200),
                    "outbox_pending": True,
                },
                "$inc": {"version": 1},
                "$push": {"outbox": {"$each": [make_event(rng, status)]}},
            },
        )
        if r.matched_count == 1:
            versions[doc_id] = v + 1
            return True
        return False

    def _w2_update(
        self,
        coll: Collection[dict[str, Any]],
        ids: list[str],
        versions: dict[str, int],
        res: RunResult,
    ) -> None:
        misses = 0

        def op() -> int:
            nonlocal misses
            if self._update_op(coll, self.rng.choice(ids), versions, self.rng):
                return 1
            misses += 1
            return 0

        n, el = self._timed("w2_update", op)
        res.rates["w2_update"] = n / el
        res.counts["w2_version_misses"] = misses

    def _w5_concurrent(
        self,
        coll: Collection[dict[str, Any]],
        ids: list[str],
        versions: dict[str, int],
        res: RunResult,
    ) -> None:
        counts = [0] * THREADS
        misses = [0] * THREADS
        errors: list[BaseException] = []
        stop = threading.Event()

        def worker(k: int) -> None:
            rng = random.Random(self.rng.random())
            mine = ids[k::THREADS]  # disjoint documents: no expected conflicts
            try:
                while not stop.is_set():
                    if self._update_op(coll, rng.choice(mine), versions, rng):
                        counts[k] += 1
                    else:
                        misses[k] += 1
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(THREADS)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        time.sleep(self.seconds)
        stop.set()
        for t in threads:
            t.join()
        el = time.perf_counter() - start
        if errors:
            raise RuntimeError(f"concurrent worker failed: {errors[0]!r}")
        n = sum(counts)
        log(f"  {self.name:<10} {'w5_concurrent':<14} {n:>7} in {el:5.1f}s = {n / el:8.1f}/s")
        res.rates["w5_concurrent"] = n / el
        res.counts["w5_version_misses"] = sum(misses)

    def _w3_relay(self, coll: Collection[dict[str, Any]], res: RunResult) -> None:
        events = 0
        pull_noops = 0
        clear_misses = 0
        start = time.perf_counter()
        deadline = start + self.seconds
        while time.perf_counter() < deadline:
            batch = list(coll.find({"outbox_pending": True}).limit(RELAY_BATCH))
            if not batch:
                break
            for doc in batch:
                for ev in doc["outbox"]:
                    # "partial" is how our relay is written ({id: E} as a query);
                    # "exact" pulls the whole event subdocument as read.
                    target = {"id": ev["id"]} if self.relay_pull == "partial" else ev
                    r = coll.update_one({"_id": doc["_id"]}, {"$pull": {"outbox": target}})
                    if r.modified_count == 1:
                        events += 1
                    else:
                        pull_noops += 1
                r = coll.update_one({"_id": doc["_id"], "outbox": []}, {"$set": {"outbox_pending": False}})
                if r.modified_count != 1:
                    clear_misses += 1
                if time.perf_counter() >= deadline:
                    break
            if pull_noops and not events:
                log(f"  {self.name:<10} w3_relay: $pull removes nothing; stopping the relay")
                break
        el = time.perf_counter() - start
        log(
            f"  {self.name:<10} {'w3_relay':<14} {events:>7} in {el:5.1f}s = "
            f"{events / el:8.1f}/s (pull no-ops: {pull_noops}, clear misses: {clear_misses})"
        )
        res.rates["w3_relay"] = events / el
        res.counts["w3_pull_noops"] = pull_noops
        res.counts["w3_clear_misses"] = clear_misses

    def _w4_lookups(self, coll: Collection[dict[str, Any]], ids: list[str], res: RunResult) -> None:
        def by_id() -> int:
            doc = coll.find_one({"_id": self.rng.choice(ids)})
            if doc is None:
                raise RuntimeError("find_one by _id found nothing")
            return 1

        n, el = self._timed("w4_find_id", by_id)
        res.rates["w4_find_id"] = n / el

        def query() -> int:
            list(
                coll.find({"township": self.rng.choice(TOWNSHIPS), "status": self.rng.choice(STATUSES)})
                .sort("submitted_at", pymongo.DESCENDING)
                .limit(20)
            )
            return 1

        n, el = self._timed("w4_query", query)
        res.rates["w4_query"] = n / el


# --------------------------------------------------------------------------
# Capability check
# --------------------------------------------------------------------------


def _ev(i: int, seq: int) -> dict[str, Any]:
    return {"id": f"e{i}", "seq": seq, "type": "T"}


def cap_unique_index(db: Database[dict[str, Any]]) -> str:
    c = db.cap_unique
    c.create_index("email", unique=True)
    c.insert_one({"_id": "a", "email": "x@example.org"})
    try:
        c.insert_one({"_id": "b", "email": "x@example.org"})
    except DuplicateKeyError as exc:
        return f"DuplicateKeyError code={exc.code}"
    raise AssertionError("second insert with the same unique key succeeded")


def cap_find_one_and_update(db: Database[dict[str, Any]]) -> str:
    c = db.cap_fau
    d = c.find_one_and_update(
        {"_id": "new"},
        {"$inc": {"version": 1}, "$set": {"status": "x"}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    assert d is not None and d["version"] == 1, f"upsert returned {d!r}"
    d = c.find_one_and_update(
        {"_id": "new", "version": 1}, {"$inc": {"version": 1}}, return_document=ReturnDocument.AFTER
    )
    assert d is not None and d["version"] == 2, f"update returned {d!r}"
    return "upsert + AFTER return correct"


def cap_add_to_set(db: Database[dict[str, Any]]) -> str:
    c = db.cap_ats
    c.insert_one({"_id": 1, "tags": ["a"]})
    c.update_one({"_id": 1}, {"$addToSet": {"tags": {"$each": ["a", "b"]}}})
    c.update_one({"_id": 1}, {"$addToSet": {"tags": "b"}})
    tags = c.find_one({"_id": 1})["tags"]  # type: ignore[index]
    assert tags == ["a", "b"], tags
    return "tags == ['a', 'b']"


def cap_pull_condition(db: Database[dict[str, Any]]) -> str:
    c = db.cap_pull
    c.insert_one({"_id": 1, "outbox": [_ev(i, i) for i in range(5)]})
    r = c.update_one({"_id": 1}, {"$pull": {"outbox": {"seq": {"$lt": 3}}}})
    seqs = [e["seq"] for e in c.find_one({"_id": 1})["outbox"]]  # type: ignore[index]
    assert seqs == [3, 4], f"silent no-op: modified_count={r.modified_count}, seqs={seqs}"
    return "$pull {seq: {$lt: 3}} left [3, 4]"


def cap_pull_partial(db: Database[dict[str, Any]]) -> str:
    c = db.cap_pull_partial
    c.insert_one({"_id": 1, "outbox": [_ev(1, 1), _ev(2, 2)]})
    r = c.update_one({"_id": 1}, {"$pull": {"outbox": {"id": "e1"}}})
    ids = [e["id"] for e in c.find_one({"_id": 1})["outbox"]]  # type: ignore[index]
    assert ids == ["e2"], f"silent no-op: modified_count={r.modified_count}, ids={ids}"
    return "$pull {id: E} removed the event"


def cap_pull_exact(db: Database[dict[str, Any]]) -> str:
    c = db.cap_pull_exact
    c.insert_one({"_id": 1, "outbox": [_ev(1, 1), _ev(2, 2)]})
    c.update_one({"_id": 1}, {"$pull": {"outbox": _ev(1, 1)}})
    ids = [e["id"] for e in c.find_one({"_id": 1})["outbox"]]  # type: ignore[index]
    assert ids == ["e2"], ids
    return "$pull of the whole subdocument removed it"


def cap_filter_elem_ne(db: Database[dict[str, Any]]) -> str:
    c = db.cap_ne
    c.insert_one({"_id": 1, "outbox": [_ev(1, 1)]})
    r1 = c.update_one({"_id": 1, "outbox.id": {"$ne": "e1"}}, {"$push": {"outbox": _ev(1, 1)}})
    r2 = c.update_one({"_id": 1, "outbox.id": {"$ne": "e2"}}, {"$push": {"outbox": _ev(2, 2)}})
    assert (r1.matched_count, r2.matched_count) == (0, 1), (r1.matched_count, r2.matched_count)
    n = len(c.find_one({"_id": 1})["outbox"])  # type: ignore[index]
    assert n == 2, n
    return "idempotent push via filter {'outbox.id': {'$ne': x}} correct"


def cap_array_filters(db: Database[dict[str, Any]]) -> str:
    c = db.cap_af
    c.insert_one({"_id": 1, "outbox": [_ev(1, 1), _ev(2, 2)]})
    c.update_one(
        {"_id": 1},
        {"$set": {"outbox.$[e].sent": True}},
        array_filters=[{"e.id": {"$ne": "e1"}}],
    )
    sent = [e.get("sent", False) for e in c.find_one({"_id": 1})["outbox"]]  # type: ignore[index]
    assert sent == [False, True], sent
    return "array_filters [{'e.id': {'$ne': x}}] with $[e] correct"


def cap_aggregate(db: Database[dict[str, Any]]) -> str:
    c = db.cap_agg
    c.insert_many([{"t": i % 3, "s": "open" if i % 2 else "closed", "n": i} for i in range(30)])

    def group(acc: dict[str, Any]) -> list[dict[str, Any]]:
        pipeline = [{"$match": {"s": "open"}}, {"$group": {"_id": "$t", **acc}}, {"$sort": {"_id": 1}}]
        return list(c.aggregate(pipeline))

    odd = [i for i in range(30) if i % 2]
    want_total = [sum(i for i in odd if i % 3 == t) for t in range(3)]
    want_cnt = [sum(1 for i in odd if i % 3 == t) for t in range(3)]
    both = group({"total": {"$sum": "$n"}, "cnt": {"$sum": 1}})
    got = ([d["total"] for d in both], [d["cnt"] for d in both])
    if got == (want_total, want_cnt):
        return "$match+$group with two $sum accumulators correct"
    single_total = [d["total"] for d in group({"total": {"$sum": "$n"}})]
    single_cnt = [d["cnt"] for d in group({"cnt": {"$sum": 1}})]
    singles_ok = (single_total, single_cnt) == (want_total, want_cnt)
    raise AssertionError(
        f"WRONG RESULT with 2 $sum accumulators in one $group: total={got[0]} cnt={got[1]} "
        f"(want {want_total} / {want_cnt}); each accumulator alone "
        + ("is correct" if singles_ok else f"gives {single_total} / {single_cnt}")
    )


def cap_count(db: Database[dict[str, Any]]) -> str:
    c = db.cap_count
    c.insert_many([{"k": i % 4} for i in range(40)])
    n = c.count_documents({"k": {"$in": [1, 2]}})
    assert n == 20, n
    return "count_documents == 20"


def cap_sort_two_keys(db: Database[dict[str, Any]]) -> str:
    c = db.cap_sort
    c.insert_many([{"a": i % 3, "b": i} for i in range(9)])
    got = [(d["a"], d["b"]) for d in c.find({}, {"_id": 0}).sort([("a", 1), ("b", -1)])]
    want = sorted(((i % 3, i) for i in range(9)), key=lambda t: (t[0], -t[1]))
    assert got == want, got
    return "sort [(a, 1), (b, -1)] correct"


def cap_elem_match(db: Database[dict[str, Any]]) -> str:
    c = db.cap_em
    c.insert_many(
        [
            {"_id": 1, "outbox": [{"type": "A", "seq": 1}, {"type": "B", "seq": 5}]},
            {"_id": 2, "outbox": [{"type": "A", "seq": 5}]},
        ]
    )
    ids = sorted(d["_id"] for d in c.find({"outbox": {"$elemMatch": {"type": "A", "seq": {"$gt": 2}}}}))
    assert ids == [2], ids
    return "$elemMatch matched only _id 2"


def cap_elem_match_ops(db: Database[dict[str, Any]]) -> str:
    c = db.cap_em_ops
    c.insert_many([{"_id": 1, "v": [1, 9]}, {"_id": 2, "v": [4]}])
    ids = sorted(d["_id"] for d in c.find({"v": {"$elemMatch": {"$gt": 2, "$lt": 6}}}))
    assert ids == [2], f"WRONG RESULT: matched _id {ids}, want [2]"
    return "$elemMatch with operators only matched _id 2"


def cap_distinct(db: Database[dict[str, Any]]) -> str:
    c = db.cap_distinct
    c.insert_many([{"t": f"t{i % 3}", "s": i % 2} for i in range(12)])
    vals = sorted(c.distinct("t", {"s": 1}))
    assert vals == ["t0", "t1", "t2"], vals
    return "distinct correct"


CAPABILITIES: list[tuple[str, Callable[[Database[dict[str, Any]]], str]]] = [
    ("unique index + DuplicateKeyError", cap_unique_index),
    ("find_one_and_update AFTER + upsert", cap_find_one_and_update),
    ("$addToSet", cap_add_to_set),
    ("$pull with condition {seq: {$lt: 3}}", cap_pull_condition),
    ("$pull by partial subdocument {id: E} (relay)", cap_pull_partial),
    ("$pull by whole subdocument", cap_pull_exact),
    ("update filter {'outbox.id': {'$ne': x}}", cap_filter_elem_ne),
    ("update array_filters [{'e.id': {'$ne': x}}] + $[e]", cap_array_filters),
    ("aggregate $match+$group+$sum (2 accumulators)", cap_aggregate),
    ("count_documents", cap_count),
    ("sort on two keys", cap_sort_two_keys),
    ("$elemMatch query on subdocument fields", cap_elem_match),
    ("$elemMatch query with operators only", cap_elem_match_ops),
    ("distinct", cap_distinct),
]
TTL_INDEX = "create_index expireAfterSeconds (TTL)"
TTL_DELETE = "TTL: expired docs deleted"


def _short(exc: BaseException) -> str:
    if isinstance(exc, OperationFailure) and exc.details:
        d = exc.details
        return f"OperationFailure {d.get('code')} {d.get('codeName')}: {d.get('errmsg')}"
    text = " ".join(str(exc).split())
    if len(text) > 220:
        text = text[:217] + "..."
    return f"{type(exc).__name__}: {text}"


def run_capabilities(
    clients: dict[str, MongoClient[dict[str, Any]]], ttl_wait: float
) -> dict[str, dict[str, str]]:
    """Run the capability checks on every backend.

    Returns ``{check: {backend: "OK ..."/"FAIL ..."}}``.
    """
    results: dict[str, dict[str, str]] = {}
    ttl_colls: dict[str, Collection[dict[str, Any]]] = {}
    for name, client in clients.items():
        client.drop_database("bench_caps")
        db = client.bench_caps
        # TTL first, so the wait overlaps the other checks.
        key = TTL_INDEX
        try:
            c = db.cap_ttl
            past = now() - dt.timedelta(hours=1)
            c.insert_many([{"_id": i, "expires_at": past} for i in range(5)])
            c.insert_one({"_id": "keep", "expires_at": now() + dt.timedelta(days=1)})
            c.create_index("expires_at", expireAfterSeconds=0)
            info = c.index_information().get("expires_at_1", {})
            if "expireAfterSeconds" not in info:
                raise AssertionError(f"index created but expireAfterSeconds not listed: {info}")
            results.setdefault(key, {})[name] = "OK index listed with expireAfterSeconds"
            ttl_colls[name] = c
        except Exception as exc:
            results.setdefault(key, {})[name] = "FAIL " + _short(exc)
        for label, fn in CAPABILITIES:
            try:
                detail = fn(db)
                results.setdefault(label, {})[name] = "OK " + detail
            except Exception as exc:
                results.setdefault(label, {})[name] = "FAIL " + _short(exc)
            log(f"  cap {name:<10} {label:<50} {results[label][name][:90]}")

    start = time.monotonic()
    waiting = dict(ttl_colls)
    log(f"  waiting up to {ttl_wait:.0f}s for TTL deletion on {', '.join(waiting) or 'none'}")
    while waiting and time.monotonic() - start < ttl_wait:
        for name, c in list(waiting.items()):
            left = c.count_documents({})
            if left == 1:
                took = time.monotonic() - start
                results.setdefault(TTL_DELETE, {})[name] = f"OK deleted after ~{took:.0f}s (future doc kept)"
                del waiting[name]
        time.sleep(2)
    for name in clients:
        if name in waiting:
            left = waiting[name].count_documents({})
            results.setdefault(TTL_DELETE, {})[name] = (
                f"FAIL {left - 1} of 5 expired docs still present after {ttl_wait:.0f}s"
            )
        elif name not in ttl_colls:
            results.setdefault(TTL_DELETE, {})[name] = "FAIL no TTL index"
        log(f"  cap {name:<10} {TTL_DELETE:<50} {results[TTL_DELETE][name]}")
    for client in clients.values():
        client.drop_database("bench_caps")
    return results


def _plan_summary(plan: Any) -> str:
    """Condense a SQLite or PostgreSQL plan to scan/index information."""
    if isinstance(plan, list):  # SQLite: ["id=.. detail=SCAN t", ...]
        return " / ".join(str(p).split("detail=")[-1] for p in plan)
    if isinstance(plan, dict):  # PostgreSQL EXPLAIN (FORMAT JSON)
        node = str(plan.get("Node Type", "?"))
        if plan.get("Index Name"):
            node += f" using {plan['Index Name']}"
        kids = [_plan_summary(p) for p in plan.get("Plans", [])]
        return node + (f" <- {' + '.join(kids)}" if kids else "")
    return "?"


def explain_hot_queries(c: Collection[dict[str, Any]]) -> list[str]:
    """Describe what FerretDB pushes down to the backend for our hot queries."""
    db = c.database
    queries: dict[str, dict[str, Any]] = {
        "find {_id} limit 1": {"filter": {"_id": "req-x"}, "limit": 1},
        "update filter {_id, version}": {"filter": {"_id": "req-x", "version": 3}},
        "clear filter {_id, outbox: []}": {"filter": {"_id": "req-x", "outbox": []}},
        "township+status sort limit 20": {
            "filter": {"township": TOWNSHIPS[0], "status": STATUSES[0]},
            "sort": {"submitted_at": -1},
            "limit": 20,
        },
        "outbox_pending limit 100": {"filter": {"outbox_pending": True}, "limit": 100},
    }
    lines = []
    for label, cmd in queries.items():
        try:
            r = db.command("explain", {"find": c.name, **cmd})
            flags = ", ".join(f"{k[: -len('Pushdown')]}={r[k]}" for k in sorted(r) if k.endswith("Pushdown"))
            plan = _plan_summary((r.get("queryPlanner") or {}).get("Plan"))
            lines.append(f"{label}: pushdown {flags or 'n/a'}; backend plan: {plan}")
        except Exception as exc:
            lines.append(f"{label}: explain failed ({_short(exc)})")
    return lines


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def fmt(x: float) -> str:
    """Format a rate for the table."""
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def render(
    args: argparse.Namespace,
    names: list[str],
    rounds: dict[str, list[RunResult]],
    caps: dict[str, dict[str, str]],
    notes: dict[str, list[str]],
    server_versions: dict[str, str],
    started: dt.datetime,
    finished: dt.datetime,
) -> str:
    """Build the Markdown report."""
    sq, pg = names
    lines = [
        "# FerretDB backends: SQLite vs PostgreSQL",
        "",
        f"- Date: {started:%Y-%m-%d %H:%M} to {finished:%H:%M} UTC",
        f"- Machine: {os.cpu_count()} CPU cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, pymongo {pymongo.version}",
        f"- FerretDB: {', '.join(f'{n} {v}' for n, v in server_versions.items())}",
        f"- Parameters: rounds={args.rounds}, docs preloaded={args.docs}, "
        f"seconds per workload={args.seconds}, threads (w5)={THREADS}, relay batch={RELAY_BATCH}",
        "- Order: rounds interleaved, alternating which backend goes first "
        f"({' '.join(('AB' if r % 2 == 0 else 'BA') for r in range(args.rounds))}; A={sq}, B={pg}); "
        "each run on a fresh database dropped afterwards.",
        f"- Script command: `python {' '.join(sys.argv)}`",
        "",
    ]
    if args.notes:
        with open(args.notes, encoding="utf-8") as fh:
            lines += [fh.read().rstrip(), ""]
    lines += [
        "## Throughput (median of rounds; higher is better)",
        "",
        f"| Workload | {sq} median | {pg} median | {sq}/{pg} ratio | {sq} rounds | {pg} rounds |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for key, label in WORKLOADS:
        a = [r.rates[key] for r in rounds[sq]]
        b = [r.rates[key] for r in rounds[pg]]
        ma, mb = statistics.median(a), statistics.median(b)
        ratio = f"{ma / mb:.2f}x" if mb else "n/a"
        lines.append(
            f"| {label} | {fmt(ma)} | {fmt(mb)} | {ratio} | "
            f"{' / '.join(fmt(x) for x in a)} | {' / '.join(fmt(x) for x in b)} |"
        )
    lines += ["", "Counters (summed over rounds; all should be 0):", ""]
    for name in names:
        total: dict[str, int] = {}
        for r in rounds[name]:
            for k, v in r.counts.items():
                total[k] = total.get(k, 0) + v
        lines.append(f"- {name}: " + ", ".join(f"{k}={v}" for k, v in sorted(total.items())))
    lines += [
        "",
        "## Capability check",
        "",
        f"| Check | {sq} | {pg} |",
        "| --- | --- | --- |",
    ]
    for check, per in caps.items():
        cells = [per.get(n, "not run").replace("|", "\\|") for n in names]
        lines.append(f"| {check} | {cells[0]} | {cells[1]} |")
    lines += [
        "",
        f"## Query pushdown reported by `explain` (benchmark collection, {args.docs} docs, round 1)",
        "",
    ]
    for n in names:
        lines.append(f"- {n}:")
        lines += [f"  - {line}" for line in notes.get(n, ["n/a"])]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sqlite-port", type=int, required=True, help="FerretDB --handler=sqlite port")
    p.add_argument("--pg-port", type=int, required=True, help="FerretDB --handler=postgresql port")
    p.add_argument("--rounds", type=int, default=3, help="rounds per backend (default 3)")
    p.add_argument("--docs", type=int, default=10_000, help="documents preloaded per run")
    p.add_argument("--seconds", type=float, default=8.0, help="wall time per workload")
    p.add_argument("--ttl-wait", type=float, default=90.0, help="seconds to wait for TTL deletion")
    p.add_argument("--seed", type=int, default=42, help="random seed")
    p.add_argument(
        "--relay-pull",
        choices=("exact", "partial"),
        default="exact",
        help="relay $pull by whole event subdocument (exact, default) or by {id: E} "
        "(partial; a silent no-op on FerretDB 1.24)",
    )
    p.add_argument("--skip-capabilities", action="store_true", help="only run the throughput rounds")
    p.add_argument("--notes", help="Markdown file whose text is copied into the report header")
    p.add_argument("--out", required=True, help="Markdown report to write")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    ports = {"SQLite": args.sqlite_port, "PostgreSQL": args.pg_port}
    names = list(ports)
    benches = {n: Bench(n, p, args.seconds, args.docs, args.seed, args.relay_pull) for n, p in ports.items()}
    versions: dict[str, str] = {}
    for n, b in benches.items():
        info = b.client.admin.command("buildInfo")
        versions[n] = str(info.get("ferretdbVersion", "not FerretDB? " + str(info.get("version"))))
        log(f"{n}: {HOST}:{b.port} FerretDB {versions[n]}")
    sample = len(bson.encode(make_doc(random.Random(0), 1)))
    log(f"sample document size: {sample} bytes BSON")

    caps: dict[str, dict[str, str]] = {}
    if not args.skip_capabilities:
        log("capability check")
        caps = run_capabilities({n: b.client for n, b in benches.items()}, args.ttl_wait)

    rounds: dict[str, list[RunResult]] = {n: [] for n in names}
    for r in range(args.rounds):
        order = names if r % 2 == 0 else names[::-1]
        for n in order:
            log(f"round {r + 1}/{args.rounds}: {n}")
            rounds[n].append(benches[n].run(r + 1))

    notes = {n: b.explain_lines for n, b in benches.items()}
    report = render(args, names, rounds, caps, notes, versions, started, dt.datetime.now(dt.UTC))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.write(report)
    log(f"wrote {args.out}")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
