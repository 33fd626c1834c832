"""The rollout figures of the requests stage against the real broker and database server."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import REGISTRY

from services.common.ids import new_id
from services.requests.patrols.models import patrol_store
from services.requests.stats.models import facts_store
from services.requests.stats.usecases import measure_rollout_gauges
from tests import factories
from tests.support import bearer, event, publish, wait_until

SERVICE = "requests"
TOWNSHIP = "凤都镇"
ADMIN = bearer("admin", "admin-it")
RESIDENT = bearer("resident", "resident-it-stats")
NOW = factories.NOW


def submit(harness, category):
    body = {
        "category": category,
        "title": "政策宣讲进村" if category == "policy_lecture" else "帮忙修水管",
        "description": "村委会礼堂",
        "township": TOWNSHIP,
        "village": "凤都村",
    }
    response = harness.call("POST", "/api/v1/requests", RESIDENT, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def counter(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def rollout(harness, who=ADMIN, **params):
    return harness.call("GET", "/api/v1/stats/rollout", who, query_string=params)


def test_figures_count_each_event_once_in_any_order_and_read_patrol_reports(harness):
    offers_before = counter("civicloop_offers_total", township=TOWNSHIP, category="policy_lecture")
    lecture, repair = submit(harness, "policy_lecture"), submit(harness, "repairs")
    where = {"township": TOWNSHIP}
    lecture_events = [
        factories.task_offered(request_id=lecture, task_id="lec-1", category="policy_lecture", **where),
        factories.task_accepted(
            request_id=lecture,
            task_id="lec-1",
            category="policy_lecture",
            accepted_at=NOW + timedelta(minutes=5),
        ),
        factories.task_completed(
            request_id=lecture,
            task_id="lec-1",
            category="policy_lecture",
            participants=[{"volunteer_id": "v1", "hours": 2}, {"volunteer_id": "v2", "hours": 1.5}],
            people_served=60,
            completed_at=NOW + timedelta(hours=3),
            **where,
        ),
        factories.request_rated(request_id=lecture, score=5, rated_at=NOW + timedelta(hours=4), **where),
    ]
    repair_events = [
        factories.task_offered(request_id=repair, task_id="rep-1", category="repairs", **where),
        factories.task_declined(request_id=repair, task_id="rep-1", category="repairs", **where),
        factories.task_offered(
            request_id=repair,
            task_id="rep-2",
            category="repairs",
            deadline=NOW + timedelta(minutes=30),
            **where,
        ),
        # accepted after its deadline: not in time
        factories.task_accepted(
            request_id=repair,
            task_id="rep-2",
            category="repairs",
            accepted_at=NOW + timedelta(hours=1),
            **where,
        ),
        factories.task_completed(
            request_id=repair,
            task_id="rep-2",
            category="repairs",
            completed_at=NOW + timedelta(hours=2),
            **where,
        ),
        factories.request_rated(request_id=repair, score=2, rated_at=NOW + timedelta(hours=5), **where),
    ]
    envelopes = [event(data) for data in lecture_events + repair_events]
    # every event twice, the second round backwards
    publish(harness.settings.amqp_url, *envelopes, *reversed(envelopes))
    filed = [(TOWNSHIP, tier) for tier in ("resolved_on_site", "resolved_on_site", "joint_consultation")]
    for township, tier in [*filed, ("大桥镇", "reported_to_community")]:
        patrol_store.insert(
            new_id(), {"township": township, "tier": tier, "status": "closed", "reported_at": NOW}, []
        )

    def settled():
        facts = {d["_id"]: d for d in facts_store.get_many([lecture, repair])}
        return (
            len(facts) == 2
            and all(fact.get("rating") and not fact.get("rollups_pending") for fact in facts.values())
            and len(facts[repair]["offers"]) == 2
        )

    wait_until(settled, what="both requests' facts")
    wait_until(
        lambda: counter("civicloop_volunteer_hours_total", township=TOWNSHIP, category="repairs") > 0,
        what="the metrics of the last event",
    )

    response = rollout(harness, township=TOWNSHIP)
    assert response.status_code == 200, response.get_json()
    (row,) = response.get_json()["townships"]
    assert row["counts"] == {
        "submitted": 2,
        "completed": 2,
        "offers": 3,
        "offers_accepted_in_time": 1,
        "ratings": 2,
        "ratings_4_or_5": 1,
    }
    assert row["rates"] == {"response": 0.3333, "resolution": 1.0, "satisfaction": 0.5}
    assert (row["lectures"], row["lecture_audience"]) == (1, 60)
    assert row["volunteer_participations"] == 3 and row["people_served"] == 61
    assert row["patrol_reports"] == {
        "resolved_on_site": 2,
        "reported_to_community": 0,
        "joint_consultation": 1,
        "total": 3,
    }

    # the same figures reached the worker's counters, once each despite the duplicates
    assert (
        counter("civicloop_offers_total", township=TOWNSHIP, category="policy_lecture") - offers_before == 1
    )
    assert counter("civicloop_offers_accepted_in_time_total", township=TOWNSHIP, category="repairs") == 0
    assert counter("civicloop_people_served_total", township=TOWNSHIP, category="policy_lecture") == 60
    assert counter("civicloop_volunteer_hours_total", township=TOWNSHIP, category="policy_lecture") == 3.5

    measure_rollout_gauges()
    # the offers were answered; none of them is overdue
    assert REGISTRY.get_sample_value("civicloop_offers_overdue", {"township": TOWNSHIP}) == 0

    # a period before the events (they happened on the factories' day) holds only the submissions
    before = rollout(harness, township=TOWNSHIP, to=(NOW - timedelta(days=1)).date().isoformat()).get_json()
    assert before["total"]["counts"]["offers"] == 0 and before["total"]["patrol_reports"]["total"] == 0
    county = rollout(harness).get_json()
    assert len(county["townships"]) == 14
    assert county["total"]["patrol_reports"]["total"] == 4


def test_the_report_is_for_staff_and_refuses_bad_periods(harness):
    assert rollout(harness, who=RESIDENT).status_code == 403
    assert rollout(harness, who={}).status_code == 401
    own = bearer("dispatcher", "d-fd", township=TOWNSHIP)
    mine = rollout(harness, who=own).get_json()
    assert [row["township"] for row in mine["townships"]] == [TOWNSHIP]
    refused = rollout(harness, who=own, township="大桥镇")
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    backwards = rollout(harness, **{"from": "2026-11-02", "to": "2026-11-01"})
    assert backwards.status_code == 422 and backwards.mimetype == "application/problem+json"
    garbled = rollout(harness, **{"from": "yesterday"})
    assert garbled.status_code == 422
    assert [error["field"] for error in garbled.get_json()["errors"]] == ["from"]
    unknown = rollout(harness, township="火星镇")
    assert [error["field"] for error in unknown.get_json()["errors"]] == ["township"]
