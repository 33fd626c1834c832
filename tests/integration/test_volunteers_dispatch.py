"""The accepting stage's side of dispatch: availability, team offers, the claim pool (real servers)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from services.volunteers.pool.models import PoolClaim, PoolEntry
from services.volunteers.tasks.models import TaskDocument
from tests import factories
from tests.support import bearer, event, publish, wait_until

SERVICE = "volunteers"
ADMIN = bearer("admin", "admin-it")


def register(harness, **overrides):
    body = {"name": "陈丽", "township": "大桥镇", "skills": ["legal"], **overrides}
    response = harness.call("POST", "/api/v1/volunteers", ADMIN, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_availability_is_part_of_the_profile_and_its_snapshot(harness):
    weekly = [{"day": 0, "start": "08:00", "end": "12:00"}]
    away = [{"date": "2026-12-01", "available": False}]
    volunteer_id = register(harness, weekly_availability=weekly, availability_exceptions=away)
    announced = harness.bus.wait_for("volunteer.registered", volunteer_id=volunteer_id)
    assert announced.data["weekly_availability"] == weekly
    assert announced.data["availability_exceptions"][0]["date"] == "2026-12-01"
    changed = harness.call(
        "PATCH", f"/api/v1/volunteers/{volunteer_id}", ADMIN, json={"weekly_availability": []}
    )
    assert changed.status_code == 200
    update = harness.bus.wait_for("volunteer.updated", volunteer_id=volunteer_id)
    assert update.data["weekly_availability"] == [] and update.data["profile_version"] == 2
    backwards = {"weekly_availability": [{"day": 1, "start": "12:00", "end": "08:00"}]}
    bad = harness.call("PATCH", f"/api/v1/volunteers/{volunteer_id}", ADMIN, json=backwards)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "weekly_availability"
    malformed = harness.call(
        "PATCH", f"/api/v1/volunteers/{volunteer_id}", ADMIN, json={"weekly_availability": [{"day": 9}]}
    )
    assert malformed.status_code == 422


def test_the_team_leader_accepts_a_team_offer_and_names_who_serves(harness):
    leader = register(harness)
    member = register(harness)
    outsider = register(harness)
    body = {"name": "大桥镇法律服务分队", "kind": "county_corps", "leader_id": leader, "member_ids": [member]}
    team = harness.call("POST", "/api/v1/teams", ADMIN, json=body).get_json()
    offer = factories.task_offered(volunteer_id=None, team_id=team["id"], township="大桥镇", level="township")
    publish(harness.settings.amqp_url, event(offer))
    wait_until(lambda: TaskDocument.objects(id=offer.task_id).first(), what="the team's task")

    inbox = harness.call("GET", "/api/v1/tasks/team", bearer("volunteer", leader)).get_json()["items"]
    assert [t["id"] for t in inbox] == [offer.task_id]
    assert harness.call("GET", "/api/v1/tasks/team", bearer("volunteer", member)).get_json()["items"] == []
    path = f"/api/v1/tasks/team/{offer.task_id}/accept"
    assert (
        harness.call("POST", path, bearer("volunteer", member), json={"volunteer_id": member}).status_code
        == 404
    )
    wrong = harness.call("POST", path, bearer("volunteer", leader), json={"volunteer_id": outsider})
    assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["field"] == "volunteer_id"
    accepted = harness.call("POST", path, bearer("volunteer", leader), json={"volunteer_id": member})
    assert accepted.status_code == 200 and accepted.get_json()["volunteer_id"] == member
    announced = harness.bus.wait_for("task.accepted", task_id=offer.task_id)
    assert announced.data["volunteer_id"] == member and announced.data["team_id"] == team["id"]
    # The named member now serves it like any task of theirs, with the code the resident was given.
    me = bearer("volunteer", member)
    code = announced.data["service_code"]
    assert code and code.isdigit()
    checked_in = harness.call("POST", f"/api/v1/tasks/{offer.task_id}/check-in", me, json={"code": code})
    assert checked_in.status_code == 200, checked_in.get_json()
    again = harness.call("POST", path, bearer("volunteer", leader), json={"volunteer_id": member})
    assert again.status_code == 409


def test_a_team_decline_goes_back_to_dispatch(harness):
    leader = register(harness)
    team = harness.call(
        "POST", "/api/v1/teams", ADMIN, json={"name": "队", "kind": "county_corps", "leader_id": leader}
    ).get_json()
    offer = factories.task_offered(volunteer_id=None, team_id=team["id"], level="county")
    publish(harness.settings.amqp_url, event(offer))
    wait_until(lambda: TaskDocument.objects(id=offer.task_id).first(), what="the team's task")
    path = f"/api/v1/tasks/team/{offer.task_id}/decline"
    answer = harness.call("POST", path, bearer("volunteer", leader), json={"reason": "人手不足"})
    assert answer.status_code == 200 and answer.get_json()["status"] == "declined"
    declined = harness.bus.wait_for("task.declined", task_id=offer.task_id)
    assert declined.data["team_id"] == team["id"] and declined.data["volunteer_id"] == leader


def test_eight_simultaneous_claims_have_exactly_one_winner(harness):
    claimers = [register(harness) for _ in range(8)]
    cook = register(harness, skills=["culture"])
    pooled = factories.request_pooled(skills_required=["legal"], township="大桥镇", resident_id="resident-9")
    publish(harness.settings.amqp_url, event(pooled))
    wait_until(lambda: PoolEntry.objects(id=pooled.request_id).first(), what="the pool entry")
    seen = harness.call("GET", "/api/v1/pool", bearer("volunteer", claimers[0])).get_json()["items"]
    assert pooled.request_id in [e["request_id"] for e in seen]
    assert harness.call("GET", "/api/v1/pool", bearer("volunteer", cook)).get_json()["items"] == []
    refused = harness.call("POST", f"/api/v1/pool/{pooled.request_id}/claim", bearer("volunteer", cook))
    assert refused.status_code == 422

    def claim(volunteer_id):
        client = harness.client.application.test_client()
        return client.post(
            f"/api/v1/pool/{pooled.request_id}/claim", headers=bearer("volunteer", volunteer_id)
        )

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(claim, claimers))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] + [409] * 7, codes
    winner = claimers[[a.status_code for a in answers].index(201)]
    assert PoolClaim.objects(id=pooled.request_id).first().volunteer_id == winner
    accepted = harness.bus.wait_for("task.accepted", request_id=pooled.request_id)
    assert accepted.data["volunteer_id"] == winner
    # A claimed task is served like an offered one: the resident's code checks the volunteer in.
    claimed_task = accepted.data["task_id"]
    code = accepted.data["service_code"]
    wrong = harness.call(
        "POST", f"/api/v1/tasks/{claimed_task}/check-in", bearer("volunteer", winner), json={"code": "x"}
    )
    assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["field"] == "code"
    right = harness.call(
        "POST", f"/api/v1/tasks/{claimed_task}/check-in", bearer("volunteer", winner), json={"code": code}
    )
    assert right.status_code == 200, right.get_json()
    assert TaskDocument.objects(request_id=pooled.request_id).count() == 1
    task = TaskDocument.objects(request_id=pooled.request_id).first()
    assert task.status == "in_service" and task.resident_id == "resident-9" and task.level == "pool"
    retried = harness.call("POST", f"/api/v1/pool/{pooled.request_id}/claim", bearer("volunteer", winner))
    assert retried.status_code == 201 and retried.get_json()["id"] == task.id
    assert harness.call("GET", "/api/v1/pool", bearer("volunteer", claimers[1])).get_json()["items"] == []


def test_a_late_acceptance_and_a_pool_claim_cannot_both_win(harness):
    slow, quick = register(harness), register(harness)
    offer = factories.task_offered(volunteer_id=slow, township="大桥镇")
    publish(harness.settings.amqp_url, event(offer))
    wait_until(lambda: TaskDocument.objects(id=offer.task_id).first(), what="the offer")
    # The offer expired and the request went to the pool; a claim gets there first.
    pooled = factories.request_pooled(
        request_id=offer.request_id, skills_required=["legal"], township="大桥镇"
    )
    publish(harness.settings.amqp_url, event(pooled))
    wait_until(lambda: PoolEntry.objects(id=pooled.request_id).first(), what="the pool entry")
    claimed = harness.call("POST", f"/api/v1/pool/{pooled.request_id}/claim", bearer("volunteer", quick))
    assert claimed.status_code == 201
    late = harness.call("POST", f"/api/v1/tasks/{offer.task_id}/accept", bearer("volunteer", slow))
    assert late.status_code == 409 and "pool" in late.get_json()["detail"]
    assert TaskDocument.objects(id=offer.task_id).first().status == "offered"
