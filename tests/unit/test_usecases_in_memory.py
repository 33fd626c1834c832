"""Use cases on the in-memory store: the same door, no servers, milliseconds (DESIGN.md "Layout").

The rules that only need a store live here: the county report read from rollups equals the report
computed from every fact, lists walked shelf by shelf, queues and gauges from flags and rollups.
The adapters themselves (FerretDB's SQL, the indexes, leases under contention) stay in
tests/integration against the real servers.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from services.common import memory_tables, tables
from services.common.county import TOWNSHIPS
from services.common.events import make_event, parse_event
from services.common.ids import new_id
from services.common.tables import QueryShapeError
from services.requests.lifecycle.usecases import record_lifecycle_event
from services.requests.orders import domain as orders
from services.requests.orders import usecases as requests
from services.requests.orders.models import from_document, requests_store
from services.requests.patrols.models import patrol_store
from services.requests.stats import domain as stats_domain
from services.requests.stats import usecases as stats
from services.requests.stats.models import fact_from_document, facts_store
from tests import factories


@pytest.fixture(autouse=True)
def memory() -> Iterator[memory_tables.MemoryBackend]:
    """Every test on a fresh in-memory backend."""
    with tables.in_memory() as backend:
        yield backend


def submit(resident: str = "resident-1", township: str = "平湖镇", category: str = "elder_care") -> str:
    """A resident's order, through the use case."""
    submission = orders.Submission(
        resident_id=resident,
        category=category,
        title="帮忙买菜",
        description="腿脚不便",
        township=township,
        village="平湖村",
    )
    return requests.submit_request(submission, None, causation_id="test").request.id


def deliver(data: object) -> None:
    """Another stage's event, as the requests worker hands it to its use case."""
    envelope, parsed = parse_event(make_event(data, producer="test", correlation_id=data.request_id))
    record_lifecycle_event(envelope, parsed)


# --- the door ----------------------------------------------------------------------------------------
def test_the_door_refuses_what_no_index_could_serve(memory):
    with pytest.raises(QueryShapeError):
        requests_store.find_where({"status": {"$in": ["submitted", "dispatched"]}})
    with pytest.raises(QueryShapeError):
        requests_store.find_where({"timeline.kind": "submitted"})
    submit()
    shapes = {shape for table in memory.tables.values() for shape in table.queries}
    assert all(kind in ("get", "find") for kind, _fields in shapes)


# --- the county report from rollups ------------------------------------------------------------------
T0 = datetime(2026, 1, 30, 22, 0, tzinfo=UTC)
moments = st.integers(0, 24 * 70).map(lambda hours: T0 + timedelta(hours=hours, minutes=hours * 7 % 60))


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[str, str, list[object]]]:
    """Requests (township, category) with the lifecycle events each went through, at random times."""
    found = []
    for number in range(draw(st.integers(1, 5))):
        township = draw(st.sampled_from(TOWNSHIPS[:3]))
        category = draw(st.sampled_from(["elder_care", stats_domain.LECTURE_CATEGORY]))
        where = {"township": township, "category": category}
        events: list[object] = []
        for attempt in range(draw(st.integers(0, 3))):
            offered_at = draw(moments)
            task = {"task_id": f"t{number}-{attempt}", **where}
            events.append(
                factories.task_offered(
                    **task,
                    offered_at=offered_at,
                    deadline=offered_at + timedelta(hours=draw(st.integers(1, 30))),
                )
            )
            answer = draw(st.sampled_from(["accept", "decline", None]))
            if answer == "accept":
                at = offered_at + timedelta(hours=draw(st.integers(0, 40)))
                events.append(factories.task_accepted(**task, accepted_at=at))
            elif answer == "decline":
                events.append(factories.task_declined(**task, declined_at=offered_at + timedelta(minutes=5)))
        if draw(st.booleans()):
            events.append(
                factories.task_completed(**where, task_id=f"t{number}-done", completed_at=draw(moments))
            )
            if draw(st.booleans()):
                events.append(
                    factories.request_rated(**where, score=draw(st.integers(1, 5)), rated_at=draw(moments))
                )
        found.append((township, category, events))
    return found


periods = st.tuples(st.one_of(st.none(), moments), st.one_of(st.none(), moments)).filter(
    lambda bounds: None in bounds or bounds[0] < bounds[1]
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories(), shuffle=st.randoms(), asked=st.lists(periods, min_size=1, max_size=4))
def test_the_report_read_from_rollups_equals_the_report_from_every_fact(history, shuffle, asked):
    with tables.in_memory():
        request_ids = []
        for township, category, events in history:
            request_id = submit(township=township, category=category)
            request_ids.append(request_id)
            for data in events:
                data.__dict__["request_id"] = request_id  # the factories' models are frozen
            # Any order, every event twice: the figures count each once.
            replay = [*events, *events]
            shuffle.shuffle(replay)
            for data in replay:
                deliver(data)
        patrols = []
        for tier in ("resolved_on_site", "joint_consultation"):
            reported_at = T0 + timedelta(days=shuffle.randint(0, 60), minutes=shuffle.randint(0, 1440))
            patrol_store.insert(
                new_id(), {"township": TOWNSHIPS[0], "tier": tier, "reported_at": reported_at}, []
            )
            patrols.append(stats_domain.FiledReport(TOWNSHIPS[0], tier, reported_at))

        requests_store.settle_pending()  # the worker's sweep, which settles new requests' figures
        stored = [from_document(requests_store.get(request_id)) for request_id in request_ids]
        submissions = [stats_domain.SubmittedRequest(r.township, r.category, r.submitted_at) for r in stored]
        facts = [fact_from_document(document) for document in facts_store.get_many(request_ids)]
        for start, end in asked:
            for township in (None, TOWNSHIPS[0]):
                expected = stats_domain.aggregate(
                    submissions, facts, patrols, stats_domain.Period(start, end), township
                )
                read = stats.rollout(start, end, township)
                assert read.townships.keys() == expected.townships.keys()
                for name, tally in expected.townships.items():
                    got = read.townships[name]
                    assert got.hours == pytest.approx(tally.hours)
                    assert got.patrol_reports == tally.patrol_reports
                    got.hours = tally.hours
                    assert got == tally, (name, start, end)


def test_offers_unanswered_past_their_deadline_are_counted_once_the_sweep_reaches_their_minute(memory):
    request_id = submit(township="大桥镇")
    soon = datetime.now(UTC) + timedelta(seconds=2)
    deliver(factories.task_offered(request_id=request_id, township="大桥镇", offered_at=soon, deadline=soon))
    stats.measure_rollout_gauges()
    assert REGISTRY.get_sample_value("civicloop_offers_overdue", {"township": "大桥镇"}) == 0
    stored = facts_store.get(request_id)
    assert stored["watch_minute"] == f"{soon:%Y-%m-%dT%H:%M}"
    # The minute passes: the sweep visits it by equality and the fact counts the overdue offer.
    stats._recount_minute(stored["watch_minute"])
    assert facts_store.get(request_id)["watch_minute"] is None or datetime.now(UTC) < soon
    if datetime.now(UTC) > soon:
        stats.measure_rollout_gauges()
        assert REGISTRY.get_sample_value("civicloop_offers_overdue", {"township": "大桥镇"}) == 1


# --- lists walked shelf by shelf ---------------------------------------------------------------------
def walk_all(list_page, **filters) -> list[str]:
    """Every id of a list, page by page through the cursors."""
    seen, before = [], None
    for _ in range(200):
        page = list_page(limit=17, before=before, **filters)
        seen += [item.id for item in page]
        if page.next_before is None:
            return seen
        before = page.next_before
    raise AssertionError("the cursor never ended")


def test_a_residents_list_pages_through_every_request_once_newest_first(memory):
    mine = [submit("resident-many", township=random.choice(TOWNSHIPS)) for _ in range(130)]
    others = [submit("resident-other") for _ in range(20)]
    assert walk_all(requests.list_requests, resident_id="resident-many") == sorted(mine, reverse=True)
    assert walk_all(requests.list_requests) == sorted(mine + others, reverse=True)
    township = TOWNSHIPS[0]
    in_township = [r for r in mine + others if requests.get_request(r).township == township]
    assert walk_all(requests.list_requests, township=township) == sorted(in_township, reverse=True)
    # Each page read a bounded number of shelves, each by one equality.
    finds = [fields for kind, fields in memory.tables["requests"].queries if kind == "find"]
    assert set(finds) <= {("resident_shelf",), ("township_shelf",), ("county_shelf",), ("idempotency_scope",)}


def test_a_rare_status_is_found_through_short_pages_that_keep_their_cursor(memory):
    ids = [submit("resident-rare") for _ in range(600)]
    cancelled = ids[5]
    from services.common.auth import Principal, Role

    requests.cancel_request(cancelled, Principal(sub="resident-rare", role=Role.RESIDENT), None, "test")
    pages = 0
    found: list[str] = []
    before = None
    while True:
        page = requests.list_requests(
            resident_id="resident-rare", status="cancelled", limit=20, before=before
        )
        pages += 1
        found += [item.id for item in page]
        if page.next_before is None:
            break
        before = page.next_before
    assert found == [cancelled] and pages > 1  # never more than a few shelves per page


def test_the_open_requests_gauge_comes_from_the_rollup(memory):
    from services.common.auth import Principal, Role
    from services.requests.orders.usecases import measure_open_requests

    kept = [submit(township="凤都镇") for _ in range(3)]
    requests.cancel_request(kept[0], Principal(sub="resident-1", role=Role.RESIDENT), None, "test")
    assert requests_store.settle_pending() == 2  # the worker's sweep: the two untouched since submitted
    measure_open_requests()
    assert (
        REGISTRY.get_sample_value("civicloop_open_requests", {"township": "凤都镇", "stage": "submitted"})
        == 2
    )
    assert (
        REGISTRY.get_sample_value("civicloop_open_requests", {"township": "凤都镇", "stage": "cancelled"})
        is None
    )
