"""Rollups: counts and sums kept up to date as documents change, read without a scan of history.

A rollup (the county report's figures, the open requests per stage, a volunteer's hours) is a small
tree of documents per group (a township, a volunteer): a root holding one total per month, a
document per month holding one total per day and, for rollups of grain "day", a leaf per day
holding what each member document contributes to it. A member (a request, a fact, a patrol report)
contributes `{leaf id: {key: amount}}`, computed from its own state by a function its store declares.

Every write **sets** a value computed from the level below, never adds to one: a leaf's entry for a
member is set to what the member contributes now; a month's entry for a day is set to the day's
total, read afresh under the month's lease; the root's entry for a month likewise. Repeating a step,
or doing it after a crash, therefore gives the same documents, and two writers can only leave the
newer total behind (each recomputes what it writes under the lease). The member itself records
what it has applied (`rollups_applied`) and is flagged (`rollups_pending`) in the same single
update that changes it, until that is done: a worker's sweep finishes what a crash interrupted.

Keys of "stamped" rollups carry the moment (`20261130T054112123/offers`), so a period that starts or
ends within a day is cut exactly from that day's leaf; a month or a day wholly inside the period is
read as its total. A report of any period reads a bounded number of documents per group: the root,
at most two months and at most two days.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import mongoengine

from services.common import locks, tables
from services.common.conflicts import ConcurrencyConflict, retry_on_conflict
from services.common.ids import as_utc

Contribution = dict[str, dict[str, float]]
Figures = dict[str, float]
STAMP = "%Y%m%dT%H%M%S%f"


class RollupDocument(mongoengine.Document):
    """A node of a rollup tree (a root, a month, a day); `parts` maps each child or member to its figures."""

    meta = {"collection": "rollups", "indexes": ["scope"]}

    id = mongoengine.StringField(primary_key=True)
    scope = mongoengine.StringField(required=True)
    rollup = mongoengine.StringField()
    group = mongoengine.StringField()
    level = mongoengine.StringField()
    bucket = mongoengine.StringField()
    parts = mongoengine.DictField()
    version = mongoengine.IntField(default=0)


@dataclass(frozen=True)
class Node:
    """Where a rollup document sits: its rollup, group, level (root, month, day) and bucket."""

    rollup: str
    group: str
    level: str
    bucket: str | None = None

    @property
    def id(self) -> str:
        return f"{self.rollup}|{self.group}" + (f"|{self.bucket}" if self.bucket else "")

    @property
    def scope(self) -> str:
        """What all groups' documents of this place share: read together by one equality."""
        return f"{self.rollup}|{self.level}" + (f"|{self.bucket}" if self.bucket else "")

    @property
    def parent(self) -> Node | None:
        if self.level == "day":
            return Node(self.rollup, self.group, "month", self.bucket[:7])  # type: ignore[index]
        if self.level == "month":
            return Node(self.rollup, self.group, "root")
        return None

    @classmethod
    def parse(cls, node_id: str) -> Node:
        """The node an id names."""
        parts = node_id.split("|")
        if len(parts) == 2:
            return cls(parts[0], parts[1], "root")
        level = "day" if len(parts[2]) == 10 else "month"
        return cls(parts[0], parts[1], level, parts[2])


def _span(level: str, bucket: str) -> tuple[datetime, datetime]:
    """The time a month (`2026-11`) or day (`2026-11-30`) bucket covers."""
    if level == "month":
        start = datetime.strptime(bucket, "%Y-%m").replace(tzinfo=UTC)
        days = calendar.monthrange(start.year, start.month)[1]
        return start, start + timedelta(days=days)
    start = datetime.strptime(bucket, "%Y-%m-%d").replace(tzinfo=UTC)
    return start, start + timedelta(days=1)


@dataclass(frozen=True)
class Rollup:
    """A kind of rollup: its name, its leaves' grain ("day" or "month"), whether its keys carry moments."""

    name: str
    grain: str = "day"
    stamped: bool = False

    def __post_init__(self) -> None:
        if "|" in self.name or self.grain not in ("day", "month"):
            raise ValueError(f"rollup {self.name!r} of grain {self.grain!r}")

    def leaf(self, group: str, moment: datetime) -> Node:
        """The leaf a contribution at `moment` goes to."""
        moment = as_utc(moment)
        bucket = f"{moment:%Y-%m-%d}" if self.grain == "day" else f"{moment:%Y-%m}"
        return Node(self.name, group, self.grain, bucket)

    def add(
        self, into: Contribution, group: str | None, moment: datetime | None, key: str, amount: float = 1
    ) -> None:
        """Add a member's `amount` of `key` at `moment` to its contribution (nothing without both)."""
        if not group or moment is None or not amount:
            return
        if "|" in group or "." in group or group.startswith("$"):
            raise ValueError(f"group {group!r} cannot name a rollup document")
        entry = into.setdefault(self.leaf(group, moment).id, {})
        name = f"{as_utc(moment).strftime(STAMP)}/{key}" if self.stamped else key
        entry[name] = _clean(entry.get(name, 0) + amount)


def _clean(value: float) -> float:
    """Whole numbers stay integers; sums of quarter hours stay exact."""
    return int(value) if float(value).is_integer() else round(float(value), 6)


def _figure(key: str) -> str:
    return key.rsplit("/", 1)[-1]


def total(parts: Mapping[str, Mapping[str, float]]) -> Figures:
    """The figures of a node: its parts summed, moments dropped."""
    figures: Figures = {}
    for values in parts.values():
        for key, amount in values.items():
            name = _figure(key)
            figures[name] = _clean(figures.get(name, 0) + amount)
    return {name: amount for name, amount in figures.items() if amount}


def member_key(collection: str, document_id: str) -> str:
    """A member's name within a leaf (MongoDB refuses dots in field names)."""
    return f"{collection}:{document_id}".replace(".", "\u2024")


# --- writing -----------------------------------------------------------------------------------------
def _table() -> tables.Table:
    return tables.table(RollupDocument)


def _new(node: Node) -> dict[str, Any]:
    return {
        "_id": node.id,
        "scope": node.scope,
        "rollup": node.rollup,
        "group": node.group,
        "level": node.level,
        "bucket": node.bucket,
        "parts": {},
        "version": 0,
    }


def _store(document: dict[str, Any]) -> None:
    """Write a node conditionally on the version read (the guard where leases are off)."""
    table = _table()
    if document["version"] == 0:
        try:
            table.insert({**document, "version": 1})
        except tables.AlreadyExists:
            raise ConcurrencyConflict(f"rollup {document['_id']} appeared meanwhile") from None
        return
    matched = table.update(
        {"_id": document["_id"], "version": document["version"]},
        set={"parts": document["parts"]},
        inc={"version": 1},
    )
    if not matched:
        raise ConcurrencyConflict(f"rollup {document['_id']} changed meanwhile")


@retry_on_conflict()
def _set_members(node: Node, members: Mapping[str, Mapping[str, float] | None]) -> None:
    """Set each member's entry in the leaf to its figures (None or empty: no entry)."""
    with locks.locked(f"rollups:{node.id}"):
        document = _table().get(node.id) or _new(node)
        changed = False
        for member, values in members.items():
            if values:
                changed |= document["parts"].get(member) != dict(values)
                document["parts"][member] = dict(values)
            elif member in document["parts"]:
                del document["parts"][member]
                changed = True
        if changed:
            _store(document)


@retry_on_conflict()
def _refresh(node: Node, children: Iterable[Node]) -> None:
    """Set the node's entry for each child to the child's total as stored now."""
    table = _table()
    with locks.locked(f"rollups:{node.id}"):
        document = table.get(node.id) or _new(node)
        changed = False
        for child in children:
            stored = table.get(child.id)
            figures = total(stored["parts"]) if stored else {}
            label = child.bucket or ""
            if figures:
                changed |= document["parts"].get(label) != figures
                document["parts"][label] = figures
            elif label in document["parts"]:
                del document["parts"][label]
                changed = True
        if changed:
            _store(document)


def apply(member: str, before: Contribution, after: Contribution) -> None:
    """Make the rollups hold `after` for this member where they held `before`."""
    changed = (leaf for leaf in set(before) | set(after) if before.get(leaf) != after.get(leaf))
    apply_many({leaf: {member: after.get(leaf)} for leaf in changed})


def apply_many(changes: Mapping[str, Mapping[str, Mapping[str, float] | None]]) -> None:
    """Set the members' entries of each leaf (leaf id → member → figures), then each parent once."""
    for leaf in sorted(changes):
        _set_members(Node.parse(leaf), changes[leaf])
    level = [Node.parse(leaf) for leaf in changes]
    while level:
        parents: dict[Node, set[Node]] = {}
        for node in level:
            if node.parent is not None:
                parents.setdefault(node.parent, set()).add(node)
        for parent, children in sorted(parents.items(), key=lambda item: item[0].id):
            _refresh(parent, sorted(children, key=lambda child: child.id))
        level = list(parents)


# --- reading -----------------------------------------------------------------------------------------
def _nodes(
    rollup: Rollup, level: str, bucket: str | None, groups: Sequence[str] | None
) -> list[dict[str, Any]]:
    """The stored nodes of one place for the groups asked for (all: one equality on `scope`)."""
    table = _table()
    if groups is None:
        return table.find({"scope": Node(rollup.name, "", level, bucket).scope})
    found = (table.get(Node(rollup.name, group, level, bucket).id) for group in groups)
    return [document for document in found if document is not None]


def _add(into: dict[str, Figures], group: str, figures: Mapping[str, float]) -> None:
    target = into.setdefault(group, {})
    for name, amount in figures.items():
        target[name] = _clean(target.get(name, 0) + amount)


def totals(
    rollup: Rollup,
    groups: Sequence[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[str, Figures]:
    """Each group's figures over [start, end) (open ends: all of it); all groups when `groups` is None."""
    start = as_utc(start) if start else None
    end = as_utc(end) if end else None
    result: dict[str, Figures] = {}

    def inside(level: str, bucket: str) -> str:
        first, last = _span(level, bucket)
        if (start is None or first >= start) and (end is None or last <= end):
            return "whole"
        if (start is not None and last <= start) or (end is not None and first >= end):
            return "outside"
        return "part"

    pending: set[tuple[str, str]] = set()
    for document in _nodes(rollup, "root", None, groups):
        for month, figures in document["parts"].items():
            verdict = inside("month", month)
            if verdict == "whole":
                _add(result, document["group"], figures)
            elif verdict == "part":
                pending.add(("month", month))
    while pending:
        deeper: set[tuple[str, str]] = set()
        for level, bucket in sorted(pending):
            for document in _nodes(rollup, level, bucket, groups):
                if level == rollup.grain:
                    _add(result, document["group"], _cut(rollup, document["parts"], start, end))
                    continue
                for day, figures in document["parts"].items():
                    verdict = inside("day", day)
                    if verdict == "whole":
                        _add(result, document["group"], figures)
                    elif verdict == "part":
                        deeper.add(("day", day))
        pending = deeper
    return result


def _cut(
    rollup: Rollup, parts: Mapping[str, Mapping[str, float]], start: datetime | None, end: datetime | None
) -> Figures:
    """A leaf's figures within [start, end): by each key's moment (only stamped rollups can be cut)."""
    if not rollup.stamped:
        raise ValueError(f"rollup {rollup.name} keeps no moments, so it cannot be cut within its grain")
    low = start.strftime(STAMP) if start else ""
    high = end.strftime(STAMP) if end else "~"
    kept: dict[str, dict[str, float]] = {}
    for member, values in parts.items():
        kept[member] = {key: amount for key, amount in values.items() if low <= key.split("/", 1)[0] < high}
    return total(kept)


def members_of(rollup: Rollup, group: str, moment: datetime) -> dict[str, dict[str, float]]:
    """The member entries of the leaf `moment` falls in (what a leaf holds, for tests and tools)."""
    document = _table().get(rollup.leaf(group, moment).id)
    return dict(document["parts"]) if document else {}


# --- building from scratch (bulk loaders) ------------------------------------------------------------
def build(
    leaves: Mapping[str, Mapping[str, Mapping[str, float]]], stored: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Every node the given leaves (id → member → figures) make, merged with `stored` nodes by id.

    Leaves given replace stored ones of the same id; months and roots are recomputed from their
    children, stored or given. What the services would have written member by member, in one pass.
    """
    nodes: dict[str, dict[str, Any]] = {}
    for leaf_id, parts in leaves.items():
        node = Node.parse(leaf_id)
        document = dict(stored.get(leaf_id) or _new(node))
        document["parts"] = {**document.get("parts", {}), **{m: dict(v) for m, v in parts.items()}}
        nodes[leaf_id] = document
    level = [Node.parse(leaf_id) for leaf_id in leaves]
    while level:
        parents: dict[Node, set[Node]] = {}
        for node in level:
            if node.parent is not None:
                parents.setdefault(node.parent, set()).add(node)
        for parent, children in parents.items():
            document = nodes.get(parent.id) or dict(stored.get(parent.id) or _new(parent))
            document["parts"] = dict(document.get("parts", {}))
            for child in children:
                figures = total(nodes[child.id]["parts"])
                if figures:
                    document["parts"][child.bucket or ""] = figures
            nodes[parent.id] = document
        level = list(parents)
    return [{**document, "version": max(1, int(document.get("version") or 0))} for document in nodes.values()]
