"""The requests stage's part of hours and pairing, against the real broker and database server."""

from __future__ import annotations

from datetime import timedelta

from services.requests.orders.models import RequestDocument
from tests import factories
from tests.support import bearer, event, publish, wait_until

SERVICE = "requests"


def test_a_pairing_visit_becomes_one_order_for_the_paired_volunteers(harness):
    due = factories.pairing_visit_due(
        visit_id="pairing-it:20261129T0800",
        volunteer_ids=["v-pair-1", "v-pair-2"],
        township="卓洋乡",
        village="前洋村",
        resident_id="resident-linapo",
        complete_by=factories.NOW + timedelta(days=2),
    )
    publish(
        harness.settings.amqp_url,
        event(due, correlation_id=due.visit_id),
        event(due, correlation_id=due.visit_id),
    )
    submitted = harness.bus.wait_for("request.submitted", source_ref=due.visit_id)
    assert submitted.data["source"] == "pairing"
    assert submitted.data["preassigned_volunteer_ids"] == ["v-pair-1", "v-pair-2"]
    assert submitted.data["resident_id"] == "resident-linapo" and submitted.data["category"] == "elder_care"
    wait_until(
        lambda: RequestDocument.objects(resident_id="resident-linapo").count() == 1, what="one request stored"
    )
    assert len(harness.bus.of_type("request.submitted", source_ref=due.visit_id)) == 1
    seen = harness.call(
        "GET", f"/api/v1/requests/{submitted.data['request_id']}", bearer("resident", "resident-linapo")
    )
    assert seen.status_code == 200 and seen.get_json()["title"] == "结对帮扶上门探访"


def test_only_the_resident_sees_the_service_code_while_the_service_is_open(harness):
    resident = bearer("resident", "resident-code")
    created = harness.call(
        "POST",
        "/api/v1/requests",
        resident,
        json={
            "category": "repairs",
            "title": "修水管",
            "description": "厨房漏水",
            "township": "平湖镇",
            "village": "平湖村",
        },
    )
    request_id = created.get_json()["id"]
    assert created.get_json()["service_code"] is None
    accepted = factories.task_accepted(request_id=request_id, service_code="482913")
    publish(harness.settings.amqp_url, event(accepted))
    view = wait_until(
        lambda: (
            (r := harness.call("GET", f"/api/v1/requests/{request_id}", resident).get_json())["status"]
            == "accepted"
            and r
        ),
        what="accepted",
    )
    assert view["service_code"] == "482913"
    staff = harness.call("GET", f"/api/v1/requests/{request_id}", bearer("admin", "a")).get_json()
    assert staff["service_code"] is None and staff["status"] == "accepted"
    publish(harness.settings.amqp_url, event(factories.task_completed(request_id=request_id)))
    wait_until(
        lambda: (
            harness.call("GET", f"/api/v1/requests/{request_id}", resident).get_json()["status"]
            == "completed"
        ),
        what="completed",
    )
    assert harness.call("GET", f"/api/v1/requests/{request_id}", resident).get_json()["service_code"] is None
