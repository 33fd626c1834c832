"""The accepting stage against the real broker and database server."""

from __future__ import annotations

from services.common import personal
from services.volunteers.hours.models import HoursEntry
from services.volunteers.pairing.models import BeneficiaryDocument
from services.volunteers.pool.models import PoolEntry
from services.volunteers.tasks.models import TaskDocument
from tests import factories
from tests.support import bearer, event, publish, wait_until

SERVICE = "volunteers"
ADMIN = bearer("admin", "admin-it")


def register(harness, **overrides):
    body = {
        "name": "林志明",
        "phone": "13900001111",
        "township": "平湖镇",
        "skills": ["elder_care"],
        **overrides,
    }
    response = harness.call("POST", "/api/v1/volunteers", ADMIN, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def offer_to(harness, volunteer_id, **overrides):
    offer = factories.task_offered(volunteer_id=volunteer_id, **overrides)
    publish(harness.settings.amqp_url, event(offer))
    wait_until(lambda: TaskDocument.objects(id=offer.task_id).first(), what="the task in the inbox")
    return offer


def test_registration_is_announced_without_the_phone(harness):
    volunteer = register(harness)
    announced = harness.bus.wait_for("volunteer.registered", volunteer_id=volunteer["id"])
    assert announced.data["skills"] == ["elder_care"] and "phone" not in announced.data
    other = bearer("volunteer", "someone-else")
    assert harness.call("GET", f"/api/v1/volunteers/{volunteer['id']}", other).status_code == 404
    own = harness.call("GET", f"/api/v1/volunteers/{volunteer['id']}", bearer("volunteer", volunteer["id"]))
    assert own.get_json()["phone"] == "13900001111"


def test_registration_is_for_admins_and_checks_its_input(harness):
    body = {"name": "x", "township": "平湖镇", "skills": ["elder_care"]}
    assert harness.call("POST", "/api/v1/volunteers", bearer("dispatcher", "d"), json=body).status_code == 403
    bad = harness.call("POST", "/api/v1/volunteers", ADMIN, json={**body, "skills": [], "capacity": -1})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"skills", "capacity"}


def test_a_patch_may_leave_a_field_out_but_never_null_what_must_have_a_value(harness):
    """Found by fuzzing: `"team_ids": null` answered 500; now 422 naming the field, nothing written."""
    volunteer = register(harness)
    path = f"/api/v1/volunteers/{volunteer['id']}"
    for field in ("name", "township", "skills", "team_ids", "active", "capacity", "weekly_availability"):
        refused = harness.call("PATCH", path, ADMIN, json={"phone": "13900009999", field: None})
        assert refused.status_code == 422, (field, refused.get_json())
        assert [e["field"] for e in refused.get_json()["errors"]] == [field]
    assert harness.call("GET", path, ADMIN).get_json() == volunteer
    cleared = harness.call("PATCH", path, ADMIN, json={"phone": None, "latitude": None})
    assert cleared.status_code == 200 and cleared.get_json()["phone"] is None
    team = harness.call(
        "POST", "/api/v1/teams", ADMIN, json={"name": "队", "kind": "county_corps"}
    ).get_json()
    nulled = harness.call("PATCH", f"/api/v1/teams/{team['id']}", ADMIN, json={"townships": None})
    assert nulled.status_code == 422 and nulled.get_json()["errors"][0]["field"] == "townships"


def test_township_staff_see_their_townships_volunteers_and_tasks_only(harness):
    """Found by the authorization matrix: any dispatcher read any township's profiles, hours and tasks."""
    here, there = register(harness, township="平湖镇"), register(harness, township="大桥镇")
    offer = offer_to(harness, there["id"], township="大桥镇")
    ours = bearer("dispatcher", "disp-pinghu", township="平湖镇")
    for path in (f"/api/v1/volunteers/{there['id']}", f"/api/v1/volunteers/{there['id']}/hours"):
        assert harness.call("GET", path, ours).status_code == 404, path
        assert harness.call("GET", path, ADMIN).status_code == 200, path
    assert harness.call("GET", f"/api/v1/volunteers/{here['id']}", ours).status_code == 200
    assert harness.call("GET", f"/api/v1/tasks/{offer.task_id}", ours).status_code == 404
    assert harness.call("GET", f"/api/v1/tasks?volunteer_id={there['id']}", ours).status_code == 404
    listed = harness.call("GET", "/api/v1/volunteers", ours).get_json()["items"]
    assert listed and {v["township"] for v in listed} == {"平湖镇"}
    elsewhere = harness.call("GET", "/api/v1/volunteers?township=大桥镇", ours)
    assert elsewhere.status_code == 403 and elsewhere.get_json()["errors"][0]["field"] == "township"


def test_the_whole_task_life_and_the_hours_ledger(harness):
    volunteer = register(harness)
    me = bearer("volunteer", volunteer["id"])
    offer = offer_to(harness, volunteer["id"])
    inbox = harness.call("GET", "/api/v1/tasks?status=offered", me).get_json()["items"]
    assert [task["id"] for task in inbox] == [offer.task_id]

    assert harness.call("POST", f"/api/v1/tasks/{offer.task_id}/accept", me).status_code == 200
    code = harness.bus.wait_for("task.accepted", task_id=offer.task_id).data["service_code"]
    checked_in = harness.call("POST", f"/api/v1/tasks/{offer.task_id}/check-in", me, json={"code": code})
    assert checked_in.status_code == 200, checked_in.get_json()
    done = harness.call("POST", f"/api/v1/tasks/{offer.task_id}/complete", me, json={"code": code})
    assert done.status_code == 200 and done.get_json()["status"] == "completed"

    for event_type in ("task.accepted", "task.checked_in", "task.completed"):
        harness.bus.wait_for(event_type, task_id=offer.task_id)
    wait_until(lambda: HoursEntry.objects(volunteer_id=volunteer["id"]).count() == 1, what="the ledger entry")
    hours = harness.call("GET", f"/api/v1/volunteers/{volunteer['id']}/hours", me).get_json()
    # Minutes between check-in and check-out count as the minimum quarter hour (docs/adr/0051).
    assert hours["total_hours"] == 0.25 and hours["tasks"] == 1


def test_someone_elses_task_cannot_be_touched(harness):
    owner = register(harness)
    intruder = register(harness, name="陈小红")
    offer = offer_to(harness, owner["id"])
    attempt = harness.call(
        "POST", f"/api/v1/tasks/{offer.task_id}/accept", bearer("volunteer", intruder["id"])
    )
    assert attempt.status_code == 404 and attempt.mimetype == "application/problem+json"
    assert TaskDocument.objects(id=offer.task_id).first().status == "offered"
    assert harness.bus.of_type("task.accepted", task_id=offer.task_id) == []


def test_bad_steps_are_problems_and_change_nothing(harness):
    volunteer = register(harness)
    me = bearer("volunteer", volunteer["id"])
    offer = offer_to(harness, volunteer["id"])
    early = harness.call("POST", f"/api/v1/tasks/{offer.task_id}/complete", me, json={"code": "123456"})
    assert early.status_code == 409
    no_code = harness.call("POST", f"/api/v1/tasks/{offer.task_id}/check-in", me, json={})
    assert no_code.status_code == 422 and no_code.get_json()["errors"][0]["field"] == "code"
    no_reason = harness.call("POST", f"/api/v1/tasks/{offer.task_id}/decline", me, json={})
    assert no_reason.status_code == 422 and no_reason.get_json()["errors"][0]["field"] == "reason"
    assert TaskDocument.objects(id=offer.task_id).first().status == "offered"
    declined = harness.call("POST", f"/api/v1/tasks/{offer.task_id}/decline", me, json={"reason": "生病了"})
    assert declined.get_json()["status"] == "declined"
    assert harness.bus.wait_for("task.declined", task_id=offer.task_id).data["reason"] == "生病了"


def test_a_newer_offer_or_a_cancellation_takes_back_the_old_one(harness):
    first, second = register(harness), register(harness, name="王国强")
    request_id = "req-it-reoffer"
    old = offer_to(harness, first["id"], request_id=request_id, attempt=1)
    offer_to(harness, second["id"], request_id=request_id, attempt=2)
    wait_until(lambda: TaskDocument.objects(id=old.task_id).first().status == "withdrawn", what="withdrawal")
    late = factories.task_offered(volunteer_id=first["id"], request_id=request_id, attempt=1)
    publish(harness.settings.amqp_url, event(late))
    wait_until(lambda: TaskDocument.objects(id=late.task_id).first(), what="the late offer")
    assert TaskDocument.objects(id=late.task_id).first().status == "withdrawn"

    publish(harness.settings.amqp_url, event(factories.request_cancelled(request_id=request_id)))
    wait_until(lambda: TaskDocument.objects(request_id=request_id, status="offered").count() == 0)


def test_teams_and_stations(harness):
    corps = harness.call("POST", "/api/v1/teams", ADMIN, json={"name": "总队", "kind": "county_corps"})
    assert corps.status_code == 201
    orphan = harness.call("POST", "/api/v1/teams", ADMIN, json={"name": "分队", "kind": "sub_team"})
    assert orphan.status_code == 422 and orphan.get_json()["errors"][0]["field"] == "parent_id"
    team = harness.call(
        "POST",
        "/api/v1/teams",
        ADMIN,
        json={
            "name": "平湖镇助老分队",
            "kind": "sub_team",
            "parent_id": corps.get_json()["id"],
            "townships": ["平湖镇"],
        },
    )
    harness.bus.wait_for("team.updated", team_id=team.get_json()["id"])
    station = {"code": "IT-S1", "name": "平湖村新时代文明实践站", "township": "平湖镇", "kind": "village"}
    assert harness.call("POST", "/api/v1/stations", ADMIN, json=station).status_code == 201
    duplicate = harness.call("POST", "/api/v1/stations", ADMIN, json=station)
    assert duplicate.status_code == 422 and duplicate.get_json()["errors"][0]["field"] == "code"
    listed = harness.call("GET", "/api/v1/stations?township=平湖镇", bearer("resident", "r")).get_json()[
        "items"
    ]
    assert [s["code"] for s in listed] == ["IT-S1"]


def test_the_copies_of_a_residents_address_and_a_paired_elder_are_sealed_at_rest(harness):
    """docs/adr/0095: the raw stored task, pool entry and beneficiary hold no plain personal field."""
    address = "平湖村 sealed 18 号"
    volunteer = register(harness)
    offer = offer_to(harness, volunteer["id"], address=address, contact_phone_masked="138****0001")
    stored = TaskDocument._get_collection().find_one({"_id": offer.task_id})
    assert stored["address"].startswith(personal.PREFIX) and address not in str(stored)
    assert stored["contact_phone_masked"] == "138****0001"
    # The volunteer serving the task reads it in the clear.
    view = harness.call("GET", f"/api/v1/tasks/{offer.task_id}", bearer("volunteer", volunteer["id"]))
    assert view.get_json()["address"] == address

    pooled = factories.request_pooled(address=address)
    publish(harness.settings.amqp_url, event(pooled))
    entry = wait_until(
        lambda: PoolEntry._get_collection().find_one({"_id": pooled.request_id}), what="the pool entry"
    )
    assert entry["address"].startswith(personal.PREFIX) and address not in str(entry)

    elder = {"name": "陈阿婆", "township": "平湖镇", "village": "平湖村", "address": address}
    elder["phone"] = "13900002222"
    made = harness.call("POST", "/api/v1/beneficiaries", ADMIN, json=elder)
    assert made.status_code == 201, made.get_json()
    raw = str(BeneficiaryDocument._get_collection().find_one({"_id": made.get_json()["id"]}))
    assert "陈阿婆" not in raw and address not in raw and "13900002222" not in raw
    shown = harness.call("GET", f"/api/v1/beneficiaries/{made.get_json()['id']}", ADMIN).get_json()
    assert (shown["name"], shown["address"], shown["phone"]) == ("陈阿婆", address, "13900002222")
