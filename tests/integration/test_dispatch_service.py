"""The dispatching stage against the real broker and database server."""

from __future__ import annotations

from services.common import personal
from services.dispatch.candidates.models import TeamDocument, VolunteerDocument
from services.dispatch.jobs.models import JobDocument
from services.dispatch.policy.models import PolicyDocument
from tests import factories
from tests.support import bearer, event, publish, wait_until

SERVICE = "dispatch"
STAFF = bearer("dispatcher", "dispatcher-it")


def register(harness, *volunteers):
    publish(harness.settings.amqp_url, *[event(v, correlation_id=v.volunteer_id) for v in volunteers])
    for v in volunteers:
        wait_until(lambda v=v: VolunteerDocument.objects(id=v.volunteer_id).first(), what="the read-model")


def register_team(harness, team):
    publish(harness.settings.amqp_url, event(team, correlation_id=team.team_id))
    wait_until(lambda: TeamDocument.objects(id=team.team_id).first(), what="the team read-model")


def test_offers_decline_reoffer_and_escalation(harness):
    near = factories.volunteer_registered(township="鹤塘镇", skills=["repairs"])
    elsewhere = factories.volunteer_registered(township="凤埔乡", skills=["repairs", "culture"])
    leader = factories.volunteer_registered(township="凤埔乡", skills=["culture"])
    far = factories.team_updated(kind="county_corps", categories=["repairs"], leader_id=leader.volunteer_id)
    register(harness, near, elsewhere, leader)
    register_team(harness, far)
    submitted = factories.request_submitted(
        category="repairs", skills_required=["repairs"], township="鹤塘镇"
    )
    publish(harness.settings.amqp_url, event(submitted))

    first = harness.bus.wait_for("task.offered", request_id=submitted.request_id, attempt=1)
    assert first.data["volunteer_id"] == near.volunteer_id and first.data["level"] == "station"
    assert first.causation_id is not None and first.correlation_id == submitted.request_id
    wait_until(
        lambda: first.data["task_id"] in VolunteerDocument.objects(id=near.volunteer_id).first().open_task_ids
    )

    decline = factories.task_declined(
        task_id=first.data["task_id"],
        request_id=submitted.request_id,
        volunteer_id=near.volunteer_id,
        reason="工具不全",
    )
    publish(harness.settings.amqp_url, event(decline), event(decline))
    second = harness.bus.wait_for("task.offered", request_id=submitted.request_id, attempt=2)
    # Nobody else in the township: the cascade goes to county teams (never to a volunteer elsewhere).
    assert second.data["team_id"] == far.team_id and second.data["level"] == "county"

    publish(
        harness.settings.amqp_url,
        event(
            factories.task_declined(
                task_id=second.data["task_id"],
                request_id=submitted.request_id,
                volunteer_id=leader.volunteer_id,
                team_id=far.team_id,
            )
        ),
    )
    harness.bus.wait_for("request.pooled", request_id=submitted.request_id)
    escalated = harness.bus.wait_for("request.escalated", request_id=submitted.request_id)
    assert "declined" in escalated.data["reason"]
    assert len(harness.bus.of_type("task.offered", request_id=submitted.request_id)) == 2

    view = harness.call("GET", f"/api/v1/dispatch/{submitted.request_id}", STAFF).get_json()
    assert view["status"] == "escalated"
    assert [a["status"] for a in view["attempts"]] == ["declined", "declined"]
    assert view["attempts"][0]["reason"] == "工具不全"
    assert view["attempts"][0]["considered"][0]["volunteer_id"] == near.volunteer_id
    assert view["declined_by"] == [near.volunteer_id, far.team_id]
    assert view["attempts"][0]["considered"][0]["parts"]["proximity"] == 0.6
    assert VolunteerDocument.objects(id=near.volunteer_id).first().open_task_ids == []


def test_the_cascade_passes_over_teams_nobody_can_answer(harness):
    """Issue 15 #1: after the station declines, the next offer goes to a team whose leader can answer."""
    carer = factories.volunteer_registered(township="平湖镇", skills=["elder_care"])
    retired = factories.volunteer_registered(township="大甲镇", skills=["culture"], active=False)
    leader = factories.volunteer_registered(township="大甲镇", skills=["culture"])
    register(harness, carer, retired, leader)
    # Created in this order, the leaderless team has the smallest id: it would win every tie.
    leaderless = factories.team_updated(townships=["平湖镇"], categories=["elder_care"], leader_id=None)
    unknown = factories.team_updated(
        townships=["平湖镇"], categories=["elder_care"], leader_id="nobody-known"
    )
    inactive = factories.team_updated(
        townships=["平湖镇"], categories=["elder_care"], leader_id=retired.volunteer_id
    )
    led = factories.team_updated(
        townships=["平湖镇"], categories=["elder_care"], leader_id=leader.volunteer_id
    )
    for team in (leaderless, unknown, inactive, led):
        register_team(harness, team)
    submitted = factories.request_submitted(
        category="elder_care", skills_required=["elder_care"], township="平湖镇"
    )
    publish(harness.settings.amqp_url, event(submitted))
    first = harness.bus.wait_for("task.offered", request_id=submitted.request_id, attempt=1)
    assert first.data["volunteer_id"] == carer.volunteer_id
    publish(
        harness.settings.amqp_url,
        event(
            factories.task_declined(
                task_id=first.data["task_id"],
                request_id=submitted.request_id,
                volunteer_id=carer.volunteer_id,
            )
        ),
    )
    second = harness.bus.wait_for("task.offered", request_id=submitted.request_id, attempt=2)
    assert (second.data["team_id"], second.data["level"]) == (led.team_id, "township")
    view = harness.call("GET", f"/api/v1/dispatch/{submitted.request_id}", STAFF).get_json()
    assert view["attempts"][1]["excluded"]["township: no active leader to answer the offer"] == 3


def test_accept_and_complete_free_the_volunteer(harness):
    volunteer = factories.volunteer_registered(township="水口镇", skills=["culture"], capacity=1)
    register(harness, volunteer)
    submitted = factories.request_submitted(
        category="culture", skills_required=["culture"], township="水口镇"
    )
    publish(harness.settings.amqp_url, event(submitted))
    offer = harness.bus.wait_for("task.offered", request_id=submitted.request_id)
    ids = {
        "task_id": offer.data["task_id"],
        "request_id": submitted.request_id,
        "volunteer_id": volunteer.volunteer_id,
    }
    publish(
        harness.settings.amqp_url,
        event(factories.task_accepted(**ids)),
        event(factories.task_completed(**ids)),
    )
    wait_until(lambda: JobDocument.objects(id=submitted.request_id).first().status == "completed")
    wait_until(lambda: VolunteerDocument.objects(id=volunteer.volunteer_id).first().open_task_ids == [])


def test_a_full_volunteer_is_passed_over_until_free(harness):
    volunteer = factories.volunteer_registered(township="吉巷乡", skills=["legal"], capacity=1)
    register(harness, volunteer)
    first = factories.request_submitted(category="legal_aid", skills_required=["legal"], township="吉巷乡")
    publish(harness.settings.amqp_url, event(first))
    harness.bus.wait_for("task.offered", request_id=first.request_id)
    second = factories.request_submitted(category="legal_aid", skills_required=["legal"], township="吉巷乡")
    publish(harness.settings.amqp_url, event(second))
    escalated = harness.bus.wait_for("request.escalated", request_id=second.request_id)
    assert "room" in escalated.data["reason"]


def test_newer_profiles_win_and_older_ones_are_ignored(harness):
    registered = factories.volunteer_registered(township="泮洋乡", skills=["medical"])
    register(harness, registered)
    newer = factories.volunteer_updated(
        volunteer_id=registered.volunteer_id,
        township="泮洋乡",
        skills=["medical"],
        active=False,
        profile_version=3,
    )
    older = factories.volunteer_updated(
        volunteer_id=registered.volunteer_id,
        township="泮洋乡",
        skills=["medical"],
        active=True,
        profile_version=2,
    )
    marker = factories.volunteer_registered(township="泮洋乡", skills=["medical"])
    publish(harness.settings.amqp_url, event(newer), event(older), event(marker))
    # One queue, one consumer: once the marker is in, both updates before it were handled.
    wait_until(lambda: VolunteerDocument.objects(id=marker.volunteer_id).first(), what="the marker volunteer")
    view = VolunteerDocument.objects(id=registered.volunteer_id).first()
    assert view.active is False and view.profile_version == 3


def test_a_cancellation_before_the_submission_means_no_offer(harness):
    volunteer = factories.volunteer_registered(township="卓洋乡", skills=["environment"])
    register(harness, volunteer)
    submitted = factories.request_submitted(
        category="environment", skills_required=["environment"], township="卓洋乡"
    )
    cancelled = factories.request_cancelled(request_id=submitted.request_id, township="卓洋乡")
    publish(harness.settings.amqp_url, event(cancelled))
    wait_until(lambda: JobDocument.objects(id=submitted.request_id).first(), what="the placeholder job")
    publish(harness.settings.amqp_url, event(submitted))
    marker = factories.request_submitted(
        category="environment", skills_required=["environment"], township="卓洋乡"
    )
    publish(harness.settings.amqp_url, event(marker))
    harness.bus.wait_for("task.offered", request_id=marker.request_id)
    assert harness.bus.of_type("task.offered", request_id=submitted.request_id) == []
    assert JobDocument.objects(id=submitted.request_id).first().status == "cancelled"


def test_staff_only_and_township_scoped(harness):
    submitted = factories.request_submitted(township="大甲镇", category="other", skills_required=[])
    publish(harness.settings.amqp_url, event(submitted))
    wait_until(lambda: JobDocument.objects(id=submitted.request_id).first())
    path = f"/api/v1/dispatch/{submitted.request_id}"
    assert harness.call("GET", path, bearer("resident", "resident-1")).status_code == 403
    assert harness.call("GET", path, bearer("dispatcher", "d", township="平湖镇")).status_code == 404
    assert harness.call("GET", path, bearer("dispatcher", "d", township="大甲镇")).status_code == 200
    assert harness.call("GET", "/api/v1/dispatch/nope", STAFF).status_code == 404


def test_the_read_model_is_the_same_after_a_replay(harness):
    """Views built from volunteer, team, task and rating events come back identical from a replay."""
    from services.common.inbox import ProcessedEvent

    volunteer = factories.volunteer_registered(
        township="凤都镇",
        skills=["culture"],
        weekly_availability=[{"day": d, "start": "00:00", "end": "23:59"} for d in range(7)],
    )
    updated = factories.volunteer_updated(
        volunteer_id=volunteer.volunteer_id, township="凤都镇", skills=["culture", "elder_care"], capacity=3
    )
    team = factories.team_updated(
        townships=["凤都镇"], categories=["culture"], leader_id=volunteer.volunteer_id
    )
    profile_events = [event(volunteer), event(updated), event(team, correlation_id=team.team_id)]
    publish(harness.settings.amqp_url, *profile_events)
    wait_until(
        lambda: (VolunteerDocument.objects(id=volunteer.volunteer_id).first() or updated).profile_version == 2
    )
    submitted = factories.request_submitted(
        category="culture", skills_required=["culture"], township="凤都镇"
    )
    publish(harness.settings.amqp_url, event(submitted))
    offer = harness.bus.wait_for("task.offered", request_id=submitted.request_id)
    ids = {"task_id": offer.data["task_id"], "request_id": submitted.request_id}
    answers = [
        event(factories.task_accepted(volunteer_id=volunteer.volunteer_id, **ids)),
        event(factories.task_completed(volunteer_id=volunteer.volunteer_id, **ids)),
        event(
            factories.request_rated(
                volunteer_id=volunteer.volunteer_id, request_id=submitted.request_id, score=2
            )
        ),
    ]
    publish(harness.settings.amqp_url, *answers)
    wait_until(lambda: JobDocument.objects(id=submitted.request_id).first().status == "completed")
    wait_until(
        lambda: VolunteerDocument.objects(id=volunteer.volunteer_id).first().ratings, what="the rating"
    )

    def views():
        return (
            VolunteerDocument._get_collection().find_one({"_id": volunteer.volunteer_id}),
            TeamDocument._get_collection().find_one({"_id": team.team_id}),
        )

    before = views()
    assert before[0]["skills"] == ["culture", "elder_care"] and before[0]["capacity"] == 3
    assert before[0]["opened_task_ids"] == before[0]["closed_task_ids"] == [ids["task_id"]]
    assert before[0]["accepted_task_ids"] == [ids["task_id"]] and before[0]["ratings"]
    assert before[1]["categories"] == ["culture"]

    # Forget the views and which events were handled, then replay everything reversed and twice.
    VolunteerDocument._get_collection().delete_one({"_id": volunteer.volunteer_id})
    TeamDocument._get_collection().delete_one({"_id": team.team_id})
    ProcessedEvent._get_collection().delete_many({})
    original_offer = {**offer.model_dump(mode="json")}
    replay = [*reversed(answers), original_offer, *reversed(profile_events)]
    publish(harness.settings.amqp_url, *replay, *replay)
    marker = factories.volunteer_registered(township="凤都镇", skills=["culture"])
    publish(harness.settings.amqp_url, event(marker))
    wait_until(lambda: VolunteerDocument.objects(id=marker.volunteer_id).first(), what="the marker")
    assert views() == before


def test_dispatchers_queue_assign_and_review_as_the_document_says(harness):
    """Every staff route, successes and refusals, answered as the OpenAPI document says (checked)."""
    admin = bearer("admin", "admin-it")
    ours = bearer("dispatcher", "dispatcher-daqiao", township="大桥镇")
    stuck = factories.request_submitted(
        category="health_check", skills_required=["medical"], township="大桥镇"
    )
    publish(harness.settings.amqp_url, event(stuck))
    harness.bus.wait_for("request.escalated", request_id=stuck.request_id)

    queue = harness.call("GET", "/api/v1/dispatch/queue", ours)
    assert queue.status_code == 200 and queue.get_json()["township"] == "大桥镇"
    entry = next(e for e in queue.get_json()["items"] if e["request_id"] == stuck.request_id)
    assert entry["waiting_for"] == "assignment" and entry["pooled"] and entry["attempts"] == 0
    elsewhere = harness.call("GET", "/api/v1/dispatch/queue?township=平湖镇", ours)
    assert elsewhere.status_code == 403 and elsewhere.get_json()["errors"][0]["field"] == "township"

    carer = factories.volunteer_registered(
        township="大桥镇",
        skills=["elder_care"],
        weekly_availability=[{"day": 0, "start": "08:00", "end": "12:00"}],
        availability_exceptions=[{"date": "2026-12-01", "available": False}],
    )
    doctor = factories.volunteer_registered(township="大桥镇", skills=["medical"])
    register(harness, carer, doctor)
    seen = harness.call("GET", f"/api/v1/dispatch/volunteers/{carer.volunteer_id}", ours)
    assert seen.status_code == 200 and seen.get_json()["weekly_availability"][0]["start"] == "08:00"
    assert harness.call("GET", "/api/v1/dispatch/volunteers/nobody", ours).status_code == 404

    assign = f"/api/v1/dispatch/{stuck.request_id}/assign"
    wrong = harness.call("POST", assign, ours, json={"volunteer_id": carer.volunteer_id})
    assert wrong.status_code == 409 and "skills" in wrong.get_json()["detail"]
    assert harness.call("POST", assign, ours, json={}).status_code == 422
    assigned = harness.call("POST", assign, ours, json={"volunteer_id": doctor.volunteer_id})
    assert assigned.status_code == 200
    attempt = assigned.get_json()["attempts"][-1]
    assert (
        attempt["level"] == "manual" and attempt["by"] == "dispatcher-daqiao" and attempt["considered"] == []
    )

    policy = harness.call("GET", "/api/v1/dispatch/policy", admin).get_json()
    held = {**policy["policy"], "review_categories": ["culture"], "expected_version": policy["version"]}
    changed = harness.call("PUT", "/api/v1/dispatch/policy", admin, json=held)
    assert changed.status_code == 200 and changed.get_json()["version"] == policy["version"] + 1
    assert changed.get_json()["updated_by"] == "admin-it"
    assert harness.call("PUT", "/api/v1/dispatch/policy", admin, json=held).status_code == 409
    try:
        culture = factories.request_submitted(
            category="culture", skills_required=["culture"], township="大桥镇"
        )
        publish(harness.settings.amqp_url, event(culture))
        harness.bus.wait_for("request.reviewed", request_id=culture.request_id)
        review = f"/api/v1/dispatch/{culture.request_id}/review"
        silent = harness.call("POST", review, ours, json={"decision": "reject"})
        assert silent.status_code == 422 and silent.get_json()["errors"][0]["field"] == "reason"
        rejected = harness.call("POST", review, ours, json={"decision": "reject", "reason": "不在服务范围"})
        assert rejected.status_code == 200 and rejected.get_json()["review"]["decision"] == "rejected"
        assert harness.call("POST", review, ours, json={"decision": "approve"}).status_code == 409
    finally:
        restored = {**policy["policy"], "review_categories": []}
        assert harness.call("PUT", "/api/v1/dispatch/policy", admin, json=restored).status_code == 200


def test_candidates_for_assigning_by_hand_rank_with_score_parts_and_mark_who_declined(harness):
    """The dispatcher's choice: who could serve now, each score's parts; nothing is offered by asking."""
    ours = bearer("dispatcher", "dispatcher-shuikou", township="水口镇")
    first = factories.volunteer_registered(township="水口镇", skills=["repairs"])
    second = factories.volunteer_registered(township="水口镇", skills=["repairs"])
    unskilled = factories.volunteer_registered(township="水口镇", skills=["culture"])
    register(harness, first, second, unskilled)
    submitted = factories.request_submitted(
        category="repairs", skills_required=["repairs"], township="水口镇"
    )
    publish(harness.settings.amqp_url, event(submitted))
    offered = harness.bus.wait_for("task.offered", request_id=submitted.request_id)
    publish(
        harness.settings.amqp_url,
        event(
            factories.task_declined(
                request_id=submitted.request_id,
                task_id=offered.data["task_id"],
                volunteer_id=offered.data["volunteer_id"],
                township="水口镇",
                category="repairs",
            )
        ),
    )
    wait_until(
        lambda: (
            offered.data["volunteer_id"]
            in harness.call("GET", f"/api/v1/dispatch/{submitted.request_id}", ours).get_json()["declined_by"]
        ),
        what="the decline on the record",
    )
    attempts_before = len(
        harness.call("GET", f"/api/v1/dispatch/{submitted.request_id}", ours).get_json()["attempts"]
    )

    found = harness.call("GET", f"/api/v1/dispatch/{submitted.request_id}/candidates", ours)
    assert found.status_code == 200, found.get_json()
    items = found.get_json()["items"]
    ids = [item["candidate_id"] for item in items]
    assert {first.volunteer_id, second.volunteer_id} <= set(ids)
    assert unskilled.volunteer_id not in ids
    totals = [item["total"] for item in items if item["level"] == items[0]["level"]]
    assert totals == sorted(totals, reverse=True)
    decliner = next(item for item in items if item["candidate_id"] == offered.data["volunteer_id"])
    assert decliner["declined"] is True and set(decliner["parts"]) >= {"proximity", "reputation", "load"}
    attempts_after = len(
        harness.call("GET", f"/api/v1/dispatch/{submitted.request_id}", ours).get_json()["attempts"]
    )
    assert attempts_after == attempts_before

    elsewhere = bearer("dispatcher", "dispatcher-pinghu", township="平湖镇")
    assert (
        harness.call("GET", f"/api/v1/dispatch/{submitted.request_id}/candidates", elsewhere).status_code
        == 404
    )
    too_many = harness.call("GET", f"/api/v1/dispatch/{submitted.request_id}/candidates?limit=500", ours)
    assert too_many.status_code == 422 and too_many.get_json()["errors"][0]["field"] == "limit"
    assert (
        harness.call(
            "GET", f"/api/v1/dispatch/{submitted.request_id}/candidates", bearer("resident", "resident-1")
        ).status_code
        == 403
    )


def test_a_policy_change_is_audited_in_the_same_write_who_what_when_why(harness):
    admin = bearer("admin", "admin-policy")
    policy = harness.call("GET", "/api/v1/dispatch/policy", admin).get_json()
    changed_weights = {**policy["policy"]["weights"]}
    changed_weights["fairness"] = changed_weights["fairness"] + 0.5
    body = {
        **policy["policy"],
        "weights": changed_weights,
        "expected_version": policy["version"],
        "reason": "县中心例会：更看重公平",
    }
    # Refused changes leave no entry: a NUL or blank reason (422 naming it), a stale version (409).
    for bad in ("why\u0000", "   "):
        refused = harness.call("PUT", "/api/v1/dispatch/policy", admin, json={**body, "reason": bad})
        assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "reason"
    stale = {**body, "expected_version": policy["version"] + 7}
    assert harness.call("PUT", "/api/v1/dispatch/policy", admin, json=stale).status_code == 409

    changed = harness.call("PUT", "/api/v1/dispatch/policy", admin, json=body)
    assert changed.status_code == 200, changed.get_json()
    version = changed.get_json()["version"]
    try:
        entry = harness.bus.wait_for("audit.recorded", action="dispatch.policy_changed", actor="admin-policy")
        data = entry.data
        assert (data["actor_role"], data["subject_type"], data["subject_id"]) == (
            "admin",
            "dispatch_policy",
            "current",
        )
        assert data["reason"] == "县中心例会：更看重公平"
        assert data["details"] == {
            "version_before": str(policy["version"]),
            "version_after": str(version),
            "changed": "weights",
        }
        assert data["at"] and entry.producer == "dispatch"
        # Exactly one entry: the refusals above wrote none, and the relay emptied the outbox.
        assert len(harness.bus.of_type("audit.recorded", actor="admin-policy")) == 1
        stored = PolicyDocument._get_collection()
        wait_until(lambda: stored.find_one({"_id": "current"})["outbox"] == [], what="the outbox relayed")
    finally:
        restored = {**policy["policy"], "reason": "恢复"}
        assert harness.call("PUT", "/api/v1/dispatch/policy", admin, json=restored).status_code == 200


def test_a_jobs_copy_of_the_residents_address_is_sealed_at_rest(harness):
    """docs/adr/0095: the raw stored job holds no plain address; the offer the volunteer gets does."""
    address = "鹤塘村 sealed 7 号"
    near = factories.volunteer_registered(township="鹤塘镇", skills=["tutoring"])
    register(harness, near)
    submitted = factories.request_submitted(
        category="study_help",
        skills_required=["tutoring"],
        township="鹤塘镇",
        address=address,
        contact_phone_masked="138****0001",
    )
    publish(harness.settings.amqp_url, event(submitted))
    offered = harness.bus.wait_for("task.offered", request_id=submitted.request_id, attempt=1)
    assert offered.data["address"] == address

    # The events it caused carry the address (to the volunteer) until relayed, then leave the document.
    stored = wait_until(
        lambda: (
            (doc := JobDocument._get_collection().find_one({"_id": submitted.request_id}))
            and not doc.get("outbox")
            and doc
        ),
        what="the job's outbox relayed",
    )
    assert stored["address"].startswith(personal.PREFIX) and address not in str(stored)
    assert stored["contact_phone_masked"] == "138****0001"
