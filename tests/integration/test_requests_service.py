"""The requests stage against the real broker and database server."""

from __future__ import annotations

from datetime import timedelta

from services.requests.orders.models import RequestDocument
from tests import factories
from tests.support import bearer, event, publish, wait_until

SERVICE = "requests"
RESIDENT = bearer("resident", "resident-it-1")
BODY = {
    "category": "elder_care",
    "title": "帮忙买菜",
    "description": "腿脚不便，需要帮忙买一周的菜",
    "township": "平湖镇",
    "village": "平湖村",
    "contact_phone": "13812345678",
}


def submit(harness, body=None, headers=None):
    return harness.call(
        "POST", "/api/v1/requests", RESIDENT if headers is None else headers, json=body or BODY
    )


def status_of(harness, request_id):
    return harness.call("GET", f"/api/v1/requests/{request_id}", RESIDENT).get_json()["status"]


def test_a_submission_is_stored_and_announced(harness):
    response = submit(harness)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["code"].startswith("GT-") and created["status"] == "submitted"
    announced = harness.bus.wait_for("request.submitted", request_id=created["id"])
    assert announced.correlation_id == created["id"]
    assert announced.data["skills_required"] == ["elder_care"]
    assert announced.data["contact_phone_masked"] == "138****5678"
    wait_until(
        lambda: RequestDocument.objects(id=created["id"]).first().outbox == [], what="the outbox to empty"
    )


def test_the_same_idempotency_key_gives_the_same_request(harness):
    headers = {**RESIDENT, "Idempotency-Key": "key-42"}
    first = submit(harness, headers=headers)
    again = submit(harness, headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert RequestDocument.objects(idempotency_scope="resident-it-1:key-42").count() == 1


def test_the_same_idempotency_key_with_another_body_is_refused_and_the_first_order_stands(harness):
    """Issue 15 #6: 422 naming Idempotency-Key (the IETF draft), not the first order for a new one."""
    headers = {**RESIDENT, "Idempotency-Key": "key-43"}
    first = submit(harness, headers=headers)
    assert first.status_code == 201
    # The relay may empty the outbox meanwhile; everything else must stay as it was.
    unrelayed = {"outbox": 0, "outbox_pending": 0}
    stored_before = RequestDocument._get_collection().find_one({"_id": first.get_json()["id"]}, unrelayed)
    other = {**BODY, "title": "帮忙修水管", "category": "repairs"}
    refused = submit(harness, body=other, headers=headers)
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    problem = refused.get_json()
    assert problem["type"].endswith("/idempotency-key-reused")
    assert problem["errors"] == [{"field": "Idempotency-Key", "detail": problem["detail"]}]
    assert RequestDocument.objects(idempotency_scope="resident-it-1:key-43").count() == 1
    assert (
        RequestDocument._get_collection().find_one({"_id": first.get_json()["id"]}, unrelayed)
        == stored_before
    )
    assert RequestDocument.objects(title="帮忙修水管", resident_id="resident-it-1").count() == 0
    # The same body again, its fields in another order and with padding the API trims: the first order.
    same = {key: BODY[key] for key in reversed(BODY)} | {"title": f"  {BODY['title']} "}
    again = submit(harness, body=same, headers=headers)
    assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]
    # Another resident may use the same key for their own order: scopes are per caller.
    theirs = submit(
        harness, body=other, headers={**bearer("resident", "resident-it-3"), "Idempotency-Key": "key-43"}
    )
    assert theirs.status_code == 201


def test_bad_input_is_a_problem_naming_the_field_and_stores_nothing(harness):
    before = RequestDocument.objects.count()
    body = {key: value for key, value in BODY.items() if key != "category"}
    body["township"] = "火星镇"
    response = submit(harness, body=body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert {e["field"] for e in problem["errors"]} == {"category", "township"}
    assert RequestDocument.objects.count() == before


def test_only_residents_order_and_only_with_a_valid_token(harness):
    assert submit(harness, headers={}).status_code == 401
    assert submit(harness, headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert submit(harness, headers=bearer("volunteer", "v1")).status_code == 403


def test_lifecycle_events_drive_status_and_timeline_and_rating_closes(harness):
    request_id = submit(harness).get_json()["id"]
    ids = {"request_id": request_id, "task_id": "task-it-1"}
    steps = [
        factories.task_offered(**ids),
        factories.task_accepted(**ids),
        factories.task_checked_in(**ids),
        factories.task_completed(**ids, resident_id="resident-it-1"),
    ]
    publish(harness.settings.amqp_url, *[event(step) for step in steps])
    wait_until(lambda: status_of(harness, request_id) == "completed", what="completed")
    publish(harness.settings.amqp_url, event(factories.request_rated(request_id=request_id, score=5)))
    wait_until(lambda: status_of(harness, request_id) == "closed", what="closed")
    closed = harness.bus.wait_for("request.closed", request_id=request_id)
    assert closed.data["outcome"] == "rated"
    view = harness.call("GET", f"/api/v1/requests/{request_id}", RESIDENT).get_json()
    kinds = [step["kind"] for step in view["timeline"]]
    assert kinds == [
        "request.submitted",
        "task.offered",
        "task.accepted",
        "task.checked_in",
        "task.completed",
        "request.rated",
        "request.closed",
    ]
    assert view["timeline"][4]["text"]["zh"].startswith("服务已完成")
    assert view["rating_score"] == 5


def test_duplicates_and_disorder_end_in_the_same_state(harness):
    request_id = submit(harness).get_json()["id"]
    ids = {"request_id": request_id, "task_id": "task-it-2"}
    completed = event(factories.task_completed(**ids, completed_at=factories.NOW + timedelta(minutes=3)))
    accepted = event(factories.task_accepted(**ids, accepted_at=factories.NOW + timedelta(minutes=1)))
    offered = event(factories.task_offered(**ids))
    publish(harness.settings.amqp_url, completed, completed, accepted, offered, offered, accepted)
    wait_until(lambda: status_of(harness, request_id) == "completed", what="completed")
    wait_until(lambda: len(RequestDocument.objects(id=request_id).first().timeline) == 4, what="4 entries")
    document = RequestDocument.objects(id=request_id).first()
    assert sorted(entry["kind"] for entry in document.timeline) == [
        "request.submitted",
        "task.accepted",
        "task.completed",
        "task.offered",
    ]


def test_cancel_before_service_and_not_after(harness):
    request_id = submit(harness).get_json()["id"]
    response = harness.call(
        "POST", f"/api/v1/requests/{request_id}/cancel", RESIDENT, json={"reason": "不需要了"}
    )
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    harness.bus.wait_for("request.cancelled", request_id=request_id)
    again = harness.call("POST", f"/api/v1/requests/{request_id}/cancel", RESIDENT, json={})
    assert again.status_code == 409 and again.mimetype == "application/problem+json"


def test_residents_see_only_their_own_and_township_staff_only_theirs(harness):
    mine = submit(harness).get_json()["id"]
    stranger = bearer("resident", "resident-it-2")
    assert harness.call("GET", f"/api/v1/requests/{mine}", stranger).status_code == 404
    own_list = harness.call("GET", "/api/v1/requests", stranger).get_json()["items"]
    assert own_list == []
    other_township = bearer("dispatcher", "d1", township="大桥镇")
    assert harness.call("GET", f"/api/v1/requests/{mine}", other_township).status_code == 404
    township_staff = bearer("dispatcher", "d2", township="平湖镇")
    view = harness.call("GET", f"/api/v1/requests/{mine}", township_staff).get_json()
    assert view["contact_phone"] == "13812345678"
    listed = harness.call("GET", "/api/v1/requests?status=submitted", township_staff).get_json()["items"]
    assert mine in [item["id"] for item in listed]
    refused = harness.call("GET", "/api/v1/requests?township=大桥镇", township_staff)
    assert refused.status_code == 403


def test_catalogue_and_health(harness):
    catalogue = harness.call("GET", "/api/v1/catalog", {}).get_json()["items"]
    assert {item["code"] for item in catalogue} >= {"elder_care", "legal_aid", "other"}
    assert all(item["name"]["zh"] and item["name"]["en"] for item in catalogue)
    ready = harness.call("GET", "/readyz", {})
    assert ready.status_code == 200 and ready.get_json()["checks"] == {"database": "ok", "broker": "ok"}
    assert b"civicloop_http_requests_total" in harness.call("GET", "/metrics", {}).data
    assert "/api/v1/requests" in harness.call("GET", "/openapi.json", {}).get_json()["paths"]


def test_similar_open_requests_of_the_village_are_suggested_without_what_is_personal(harness):
    """Before ordering: the same service in the same village lately; others' requests stay anonymous."""
    body = {**BODY, "township": "吉巷乡", "village": "长洋村", "category": "repairs", "title": "路灯坏了"}
    mine = submit(harness, body=body).get_json()
    neighbour = bearer("resident", "resident-it-neighbour")
    theirs = submit(harness, body={**body, "title": "村口路灯不亮"}, headers=neighbour).get_json()
    submit(harness, body={**body, "village": "别的村"}, headers=neighbour)
    submit(harness, body={**body, "category": "culture"}, headers=neighbour)
    cancelled = submit(harness, body=body, headers=neighbour).get_json()
    assert harness.call("POST", f"/api/v1/requests/{cancelled['id']}/cancel", neighbour).status_code == 200

    query = "category=repairs&township=吉巷乡&village=长洋村"
    found = harness.call("GET", f"/api/v1/requests/similar?{query}", RESIDENT)
    assert found.status_code == 200, found.get_json()
    items = found.get_json()["items"]
    assert [item["code"] for item in items] == [theirs["code"], mine["code"]], items
    assert items[0]["yours"] is False and items[0]["id"] is None
    assert items[1]["yours"] is True and items[1]["id"] == mine["id"]
    assert "contact_phone" not in items[0] and items[0]["status_text"]["zh"]
    staff = harness.call("GET", f"/api/v1/requests/similar?{query}", bearer("admin", "admin-it"))
    assert staff.get_json()["items"][0]["id"] == theirs["id"]
    assert RequestDocument.objects(id=mine["id"]).first().similar_key.startswith("吉巷乡|长洋村|repairs|")

    bad = harness.call("GET", f"/api/v1/requests/similar?{query}&days=99", RESIDENT)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "days"
    missing = harness.call("GET", "/api/v1/requests/similar?township=吉巷乡&village=长洋村", RESIDENT)
    assert missing.status_code == 422 and missing.get_json()["errors"][0]["field"] == "category"
    assert (
        harness.call("GET", f"/api/v1/requests/similar?{query}", bearer("volunteer", "v1")).status_code == 403
    )


def test_a_listed_request_shows_the_status_its_timeline_gives(harness):
    """My requests list: a cancelled order reads cancelled, not submitted."""
    resident = bearer("resident", "resident-it-lister")
    kept = submit(harness, headers=resident).get_json()
    gone = submit(harness, headers=resident).get_json()
    harness.call("POST", f"/api/v1/requests/{gone['id']}/cancel", resident)
    listed = {
        item["id"]: item for item in harness.call("GET", "/api/v1/requests", resident).get_json()["items"]
    }
    assert listed[gone["id"]]["status"] == "cancelled"
    assert listed[gone["id"]]["status_text"]["zh"] == "已取消"
    assert listed[kept["id"]]["status"] == "submitted" and listed[kept["id"]]["timeline"] is None
