"""Years of the county's history stored straight into the four databases, in the services' own shapes.

The shapes are not written out here: a few real loops are driven through the gateway first, and
the documents they left in every database (request, rollout facts, dispatch job, tasks, hours,
rating, follow-up, inbox entries) are the templates. Each stored loop is a copy of a template with
new ids (ULIDs at its own time), its own resident, volunteers, township, request code and times, so
what is loaded is exactly what the services write, and stays so when they change their models.

History runs backwards from the end of yesterday at the county's pace (about 300,000 people served
a year, ~820 requests a day), so a larger size adds older years and the last week stays the same:
inbox entries exist only for the last `INBOX_RETENTION` (the inbox forgets older ones). 50,000
residents and 3,000 volunteers make up the county. Used by `make bench-growth`
(bench/growth_bench.py) and by the statement audit (tests/e2e/test_statements.py).
"""

from __future__ import annotations

import importlib
import pkgutil
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import MongoClient
from ulid import ULID

from bench.ferret_copy import CopySink
from services.common import shelves
from services.common.county import TOWNSHIPS
from services.dispatch.candidates import domain as candidates

SERVICES = ("requests", "dispatch", "volunteers", "ratings")
REQUESTS_PER_DAY = 820
RESIDENTS = 50_000
VOLUNTEERS = 3_000
INBOX_RETENTION = timedelta(days=7)
# One resident holds the newest loops (in every size's history) and so a full first page of their
# list at every size: their list measures history's cost apart from how full a page is.
REGULAR = "resident-regular"
REGULAR_REQUESTS = 20
BATCH = 1000
# Where a loop's documents are, and how to find them by its request id.
LOOP_DOCUMENTS: dict[tuple[str, str], str] = {
    ("requests", "requests"): "_id",
    ("requests", "rollout_facts"): "_id",
    ("dispatch", "jobs"): "_id",
    ("volunteers", "tasks"): "request_id",
    ("volunteers", "hours"): "request_id",
    ("ratings", "ratings"): "_id",
    ("ratings", "followups"): "_id",
}
Docs = dict[tuple[str, str], list[dict[str, Any]]]


def log(message: str) -> None:
    """Progress on stderr."""
    import sys

    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Template:
    """One real loop's documents in every database, and the ids and values that make it this loop."""

    docs: Docs
    request_id: str
    submitted_at: datetime
    resident_id: str
    township: str
    code: str
    volunteer_ids: list[str]
    other_ids: list[str]


@dataclass
class County:
    """The stored county: the template volunteers copied into the loaded pool, and what they did."""

    volunteer_ids: list[str] = field(default_factory=list)
    by_township: dict[str, list[str]] = field(default_factory=dict)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    loaded: int = 0
    codes_per_day: dict[str, int] = field(default_factory=dict)
    # A uniform sample of the stored loops: (request id, resident id).
    samples: list[tuple[str, str]] = field(default_factory=list)
    # The lowest position taken on each list, per (service, collection, shelf, key): history goes below 0.
    bottoms: dict[tuple[str, str, str, str], int] = field(default_factory=dict)


def shelves_of() -> dict[tuple[str, str], list[shelves.Shelf]]:
    """The lists each service's stores put their documents on, by (service, collection)."""
    from services.common.store import STORES

    for service in SERVICES:
        package = importlib.import_module(f"services.{service}")
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if module.name.endswith(".models"):
                importlib.import_module(module.name)
    found: dict[tuple[str, str], list[shelves.Shelf]] = {}
    for store in STORES:
        service = store.document.__module__.split(".")[1]
        if store.shelves:
            found.setdefault((service, store.name), []).extend(store.shelves.values())
    return found


def _shelve(
    county: County, service: str, collection: str, doc: dict[str, Any], lists: list[shelves.Shelf]
) -> None:
    """Put a loaded (older) document on its lists, below every document there."""
    for shelf in lists:
        key = shelf.key(doc)
        if key is None:
            doc[shelf.field] = None
            continue
        slot = (service, collection, shelf.name, key)
        position = county.bottoms.get(slot, 0) - 1
        county.bottoms[slot] = position
        doc[shelf.field] = shelves.label(key, position // shelves.SIZE)
    if "rollups_applied" in doc:
        # Loaded history is not counted into the rollups (their cost is per group and day, not per
        # document); the template's applied figures would name another request's day.
        doc["rollups_applied"] = {}
        doc["rollups_pending"] = False


def clients(ports: Mapping[str, int | str]) -> dict[str, MongoClient]:
    """A client per service's wire server."""
    return {
        service: MongoClient(f"mongodb://127.0.0.1:{ports[service]}/", tz_aware=True) for service in SERVICES
    }


def capture(databases: Mapping[str, Any], request_ids: list[str]) -> list[Template]:
    """The documents the given (closed) loops left behind, as templates."""
    templates = []
    for request_id in request_ids:
        docs: Docs = {}
        for (service, collection), key in LOOP_DOCUMENTS.items():
            found = list(databases[service][collection].find({key: request_id}))
            if found:
                docs[(service, collection)] = found
        request = docs[("requests", "requests")][0]
        event_ids = [entry["event_id"] for entry in request.get("timeline", [])]
        for service in SERVICES:
            entries = [databases[service]["inbox"].find_one({"_id": event_id}) for event_id in event_ids]
            docs[(service, "inbox")] = [entry for entry in entries if entry]
        tasks = docs.get(("volunteers", "tasks"), [])
        volunteer_ids = sorted({t["volunteer_id"] for t in tasks if t.get("volunteer_id")})
        rating_ids = [r["rating_id"] for r in docs.get(("ratings", "ratings"), []) if r.get("rating_id")]
        templates.append(
            Template(
                docs=docs,
                request_id=request_id,
                submitted_at=request["submitted_at"],
                resident_id=request["resident_id"],
                township=request["township"],
                code=request["code"],
                volunteer_ids=volunteer_ids,
                other_ids=[*(t["_id"] for t in tasks), *event_ids, *rating_ids],
            )
        )
    return templates


def capture_volunteer(databases: Mapping[str, Any], volunteer_id: str) -> dict[tuple[str, str], dict]:
    """A registered volunteer's profile (volunteers) and read-model view (dispatch), as a template."""
    return {
        ("volunteers", "volunteers"): databases["volunteers"]["volunteers"].find_one({"_id": volunteer_id}),
        ("dispatch", "volunteer_view"): databases["dispatch"]["volunteer_view"].find_one(
            {"_id": volunteer_id}
        ),
    }


def _rewrite(value: Any, ids: Mapping[str, str], shift: timedelta) -> Any:
    """`value` with every id of `ids` replaced and every time moved by `shift`."""
    if isinstance(value, str):
        if value in ids:
            return ids[value]
        if ":" in value:
            return ":".join(ids.get(part, part) for part in value.split(":"))
        return value
    if isinstance(value, datetime):
        return value + shift
    if isinstance(value, dict):
        return {ids.get(key, key): _rewrite(item, ids, shift) for key, item in value.items()}
    if isinstance(value, list):
        return [_rewrite(item, ids, shift) for item in value]
    return value


def _ulid(moment: datetime, rng: random.Random) -> str:
    return str(ULID.from_timestamp(moment.timestamp() + rng.random() / 1000))


def load_volunteers(
    databases: Mapping[str, Any],
    volunteer: Mapping[tuple[str, str], dict],
    county: County,
    rng: random.Random,
) -> None:
    """Store the county's volunteers (profile and dispatch view), spread over the townships."""
    profile, view = volunteer[("volunteers", "volunteers")], volunteer[("dispatch", "volunteer_view")]
    profiles, views = [], []
    registered = profile.get("registered_at") or datetime.now(UTC)
    lists = shelves_of()
    for number in range(VOLUNTEERS):
        township = TOWNSHIPS[number % len(TOWNSHIPS)]
        joined = registered - timedelta(days=400 + number / 10)
        volunteer_id = _ulid(joined, rng)
        ids = {profile["_id"]: volunteer_id, profile["township"]: township}
        new_profile = _rewrite(profile, ids, timedelta(0))
        new_profile.update(name=f"志愿者{number:04d}", phone=f"139{number:08d}")
        new_view = _rewrite(view, ids, timedelta(0))
        new_view["name"] = new_profile["name"]
        # Their history is added loop by loop (`_remember_in_views`), not copied from the template's.
        new_view.update(tasks={}, rated={}, last_offered_at=None, **dict.fromkeys(candidates.COUNTERS, 0))
        if "profile_minute" in new_view:
            # Their profiles last changed when they joined, not in the template's minute.
            new_view["profile_minute"] = f"{joined:%Y-%m-%dT%H:%M}"
        _shelve(county, "volunteers", "volunteers", new_profile, lists.get(("volunteers", "volunteers"), []))
        profiles.append(new_profile)
        views.append(new_view)
        county.volunteer_ids.append(volunteer_id)
        county.by_township.setdefault(township, []).append(volunteer_id)
        county.views[volunteer_id] = new_view
    databases["volunteers"]["volunteers"].insert_many(profiles, ordered=False)
    databases["dispatch"]["volunteer_view"].insert_many(views, ordered=False)


def history_end(now: datetime) -> datetime:
    """Loaded history ends a minute before today (UTC) began, so today's request codes stay free."""
    return now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(minutes=1)


def generate(
    templates: list[Template],
    county: County,
    target: int,
    now: datetime,
    rng: random.Random,
    per_day: float = REQUESTS_PER_DAY,
) -> Iterator[Docs]:
    """Batches of documents for loops number `county.loaded` … `target - 1` (older as they go)."""
    end = history_end(now)
    lists = shelves_of()
    batch: Docs = {}
    count = 0
    for index in range(county.loaded, target):
        submitted_at = end - timedelta(days=index / per_day) - timedelta(seconds=rng.random() * 60)
        template = rng.choice(templates)
        shift = submitted_at - template.submitted_at
        township = rng.choice(TOWNSHIPS)
        pool = county.by_township[township]
        day = f"{submitted_at:%Y%m%d}"
        county.codes_per_day[day] = county.codes_per_day.get(day, 0) + 1
        request_id = _ulid(submitted_at, rng)
        resident = REGULAR if index < REGULAR_REQUESTS else f"resident-{rng.randrange(RESIDENTS):05d}"
        ids = {
            template.request_id: request_id,
            template.resident_id: resident,
            template.township: township,
            template.code: f"GT-{day}-{county.codes_per_day[day]:04d}",
        }
        volunteers = rng.sample(pool, len(template.volunteer_ids))
        ids.update(zip(template.volunteer_ids, volunteers, strict=True))
        ids.update({old: _ulid(submitted_at, rng) for old in template.other_ids})
        recent = now - submitted_at < INBOX_RETENTION
        for (service, collection), docs in template.docs.items():
            if collection == "inbox" and not recent:
                continue
            for doc in docs:
                new = _rewrite(doc, ids, shift)
                if collection == "inbox":
                    new["handled_minute"] = f"{new['handled_at']:%Y-%m-%dT%H:%M}"
                if collection == "requests":
                    new["idempotency_scope"] = request_id
                if (service, collection) in lists:
                    _shelve(county, service, collection, new, lists[(service, collection)])
                batch.setdefault((service, collection), []).append(new)
        _remember_in_views(county, template, ids, rng, submitted_at)
        _sample(county, index, (request_id, ids[template.resident_id]), rng)
        count += 1
        if count % BATCH == 0:
            yield batch
            batch = {}
    county.loaded = max(county.loaded, target)
    if batch:
        yield batch


def _sample(county: County, index: int, loop: tuple[str, str], rng: random.Random, size: int = 200) -> None:
    """Reservoir sampling: every stored loop equally likely to be among the samples."""
    if len(county.samples) < size:
        county.samples.append(loop)
    elif (slot := rng.randrange(index + 1)) < size:
        county.samples[slot] = loop


def _remember_in_views(
    county: County, template: Template, ids: Mapping[str, str], rng: random.Random, at: datetime
) -> None:
    """What dispatch's read-model learns from this loop's task events, by dispatch's own rules.

    Each event is applied as it was when it happened (`now` = its time), so the lifetime counters
    count all history; `store_views` then forgets what the read-model no longer keeps (closed tasks
    and ratings older than a week), as dispatch's sweep does.
    """
    for task in template.docs.get(("volunteers", "tasks"), []):
        view = county.views.get(ids.get(task.get("volunteer_id") or "", ""))
        if view is None:
            continue
        task_id = ids[task["_id"]]
        candidates.task_opened(view, task_id, at, offered=True, now=at)
        if task.get("status") == "completed":
            candidates.task_accepted(view, task_id, at, now=at)
            candidates.rated(view, _ulid(at, rng), rng.choice((3, 4, 5, 5, 5)), at=at)
        candidates.task_closed(view, task_id, at=at)


def postgres_url(pg_port: int | str, service: str) -> str:
    """The PostgreSQL database behind a service's FerretDB on the local stack."""
    return f"postgresql://postgres@127.0.0.1:{pg_port}/ferretdb_{service}"


def copy_sinks(pg_port: int | str, names: Mapping[str, str]) -> dict[str, CopySink]:
    """A COPY sink per service's database on the local stack's PostgreSQL (`names`: service → database)."""
    return {service: CopySink(postgres_url(pg_port, service), names[service]) for service in SERVICES}


def store(
    databases: Mapping[str, Any],
    batches: Iterator[Docs],
    progress: Callable[[int], None],
    sinks: Mapping[str, CopySink] | None = None,
) -> int:
    """Insert the batches (by COPY where a sink is given, else through the wire); return how many went in."""
    stored = 0
    for batch in batches:
        for (service, collection), docs in batch.items():
            if sinks and service in sinks:
                sinks[service].insert(collection, docs)
            else:
                databases[service][collection].insert_many(docs, ordered=False)
            stored += len(docs)
        progress(stored)
    return stored


def store_counters(databases: Mapping[str, Any], county: County) -> None:
    """Move each list's bottom down to the lowest position loaded (its top, the live documents', stays)."""
    for (service, collection, shelf, key), bottom in county.bottoms.items():
        counter_id = f"{collection}:{shelf}:{key}"
        databases[service]["shelves"].update_one(
            {"_id": counter_id}, {"$set": {"bottom": bottom}, "$setOnInsert": {"top": 0}}, upsert=True
        )


def store_views(databases: Mapping[str, Any], county: County) -> None:
    """Write dispatch's volunteer views as the loaded history left them, trimmed as dispatch trims them."""
    collection = databases["dispatch"]["volunteer_view"]
    cutoff = datetime.now(UTC) - candidates.KEEP
    for volunteer_id, view in county.views.items():
        candidates.forget_before(view, cutoff)
        collection.replace_one({"_id": volunteer_id}, view)


def grow(
    databases: Mapping[str, Any],
    templates: list[Template],
    county: County,
    target: int,
    now: datetime,
    rng: random.Random,
    per_day: float = REQUESTS_PER_DAY,
    sinks: Mapping[str, CopySink] | None = None,
) -> dict[str, float]:
    """Store loops until `target` requests are stored (`per_day` of them a day); return counts, timings.

    With `sinks` (the local stack), documents go into FerretDB's tables by COPY; without, through the
    wire server (MongoDB, or FerretDB, which decodes and re-encodes each document).
    """
    started = time.monotonic()
    before = county.loaded
    last = [started]

    def progress(stored: int) -> None:
        if time.monotonic() - last[0] > 10:
            last[0] = time.monotonic()
            rate = stored / (last[0] - started)
            log(f"  loading toward {target:,} requests: {stored:,} documents stored ({rate:,.0f}/s)")

    documents = store(databases, generate(templates, county, target, now, rng, per_day), progress, sinks)
    store_views(databases, county)
    store_counters(databases, county)
    seconds = time.monotonic() - started
    return {"requests_added": county.loaded - before, "documents": documents, "seconds": round(seconds, 1)}
