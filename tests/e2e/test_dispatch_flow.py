"""Dispatch through the gateway: decline → next, the claim pool's single winner, manual dispatch, review."""

from __future__ import annotations

import threading

import pytest

from tests.e2e.test_loop import current_offer, register_volunteers, request_status, submit, wait_in_inbox
from tests.support import bearer, wait_until

pytestmark = pytest.mark.e2e


def job_of(gateway, admin, request_id, status):
    return wait_until(
        lambda: (
            (r := gateway.get(f"/api/v1/dispatch/{request_id}", admin)).ok
            and r.json()["status"] == status
            and r.json()
        ),
        timeout=40,  # a shared two-core machine: the first event after a start can take a while
        what=f"dispatch of {request_id} to be {status}",
    )


def test_everyone_declines_then_the_pool_has_exactly_one_winner(gateway, admin):
    locals_ = register_volunteers(gateway, admin, 2, township="大桥镇", skills=("legal",))
    claimers = register_volunteers(gateway, admin, 2, township="凤都镇", skills=("legal",))
    resident = bearer("resident", "e2e-pool-resident")
    created = submit(gateway, resident, category="legal_aid", township="大桥镇", village="大桥村")
    assert created.status_code == 201, created.text
    request_id = created.json()["id"]
    # Legal aid is a category the catalogue sends to review: a township dispatcher approves it first.
    job_of(gateway, admin, request_id, "in_review")
    dispatcher = bearer("dispatcher", "e2e-approver", township="大桥镇")
    approved = gateway.post(f"/api/v1/dispatch/{request_id}/review", dispatcher, json={"decision": "approve"})
    assert approved.status_code == 200, approved.text

    declined = []
    for attempt in (1, 2):
        volunteer_id, task_id = current_offer(gateway, admin, request_id, attempt)
        assert volunteer_id in locals_ and volunteer_id not in declined  # decline → the next candidate
        volunteer = bearer("volunteer", volunteer_id)
        wait_in_inbox(gateway, volunteer, task_id)
        answer = gateway.post(f"/api/v1/tasks/{task_id}/decline", volunteer, json={"reason": "不在家"})
        assert answer.status_code == 200, answer.text
        declined.append(volunteer_id)

    job = job_of(gateway, admin, request_id, "escalated")
    assert job["pooled"] and job["declined_by"] == declined
    first = job["attempts"][0]
    assert first["level"] == "station" and first["considered"], "the decision keeps who was weighed"
    assert {"proximity", "distance", "reputation", "load", "fairness", "acceptance"} == set(
        first["considered"][0]["parts"]
    )
    wait_until(lambda: request_status(gateway, resident, request_id) == "escalated", what="escalated")

    tokens = [bearer("volunteer", v) for v in claimers]
    for token in tokens:
        wait_until(
            lambda t=token: any(
                e["request_id"] == request_id for e in gateway.get("/api/v1/pool", t).json()["items"]
            ),
            what="the request in the pool",
        )
    outside = register_volunteers(gateway, admin, 1, township="凤都镇", skills=("culture",))[0]
    assert all(
        e["request_id"] != request_id
        for e in gateway.get("/api/v1/pool", bearer("volunteer", outside)).json()["items"]
    ), "a volunteer without the skills does not see it"

    answers: list = [None, None]
    start = threading.Barrier(2)

    def claim(n: int) -> None:
        start.wait()
        answers[n] = gateway.call("POST", f"/api/v1/pool/{request_id}/claim", tokens[n])

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = sorted(a.status_code for a in answers)
    assert codes == [201, 409], [a.text for a in answers]
    winner = next(n for n in range(2) if answers[n].status_code == 201)
    task = answers[winner].json()
    assert task["status"] == "accepted" and task["volunteer_id"] == claimers[winner]
    assert answers[1 - winner].headers["Content-Type"].startswith("application/problem+json")

    job = job_of(gateway, admin, request_id, "accepted")
    assert job["attempts"][-1]["level"] == "pool" and job["attempts"][-1]["volunteer_id"] == claimers[winner]
    wait_until(lambda: request_status(gateway, resident, request_id) == "accepted", what="accepted")
    assert all(e["request_id"] != request_id for e in gateway.get("/api/v1/pool", tokens[0]).json()["items"])


def test_escalation_then_a_township_dispatcher_assigns_by_hand(gateway, admin):
    resident = bearer("resident", "e2e-manual-resident")
    created = submit(gateway, resident, category="health_check", township="吉巷乡", village="吉巷村")
    request_id = created.json()["id"]
    job_of(gateway, admin, request_id, "escalated")  # nobody in the county has the skill yet

    ours = bearer("dispatcher", "e2e-dispatcher", township="吉巷乡")
    theirs = bearer("dispatcher", "e2e-other-dispatcher", township="平湖镇")
    queue = gateway.get("/api/v1/dispatch/queue", ours).json()
    entry = next(e for e in queue["items"] if e["request_id"] == request_id)
    assert entry["waiting_for"] == "assignment" and entry["pooled"]
    assert all(
        e["request_id"] != request_id for e in gateway.get("/api/v1/dispatch/queue", theirs).json()["items"]
    )
    assert gateway.get("/api/v1/dispatch/queue", bearer("resident", "x")).status_code == 403

    doctor = register_volunteers(gateway, admin, 1, township="凤都镇", skills=("medical",))[0]
    carer = register_volunteers(gateway, admin, 1, township="凤都镇", skills=("elder_care",))[0]
    wrong = gateway.post(f"/api/v1/dispatch/{request_id}/assign", ours, json={"volunteer_id": carer})
    assert wrong.status_code == 409 and "skills" in wrong.json()["detail"]
    other = gateway.post(f"/api/v1/dispatch/{request_id}/assign", theirs, json={"volunteer_id": doctor})
    assert other.status_code == 404
    bad = gateway.post(f"/api/v1/dispatch/{request_id}/assign", ours, json={})
    assert bad.status_code == 422

    assigned = gateway.post(f"/api/v1/dispatch/{request_id}/assign", ours, json={"volunteer_id": doctor})
    assert assigned.status_code == 200, assigned.text
    attempt = assigned.json()["attempts"][-1]
    assert attempt["level"] == "manual" and attempt["by"] == "e2e-dispatcher"
    volunteer = bearer("volunteer", doctor)
    wait_in_inbox(gateway, volunteer, attempt["task_id"])
    # The hand-picked offer holds the pool's single claim: nobody can grab the request meanwhile.
    late = register_volunteers(gateway, admin, 1, township="凤都镇", skills=("medical",))[0]
    grab = gateway.post(f"/api/v1/pool/{request_id}/claim", bearer("volunteer", late))
    assert grab.status_code in (404, 409)
    assert gateway.post(f"/api/v1/tasks/{attempt['task_id']}/accept", volunteer).status_code == 200
    wait_until(lambda: request_status(gateway, resident, request_id) == "accepted", what="accepted")
    assert job_of(gateway, admin, request_id, "accepted")["attempts"][-1]["volunteer_id"] == doctor
    # The trail says who assigned it, to whom, and only once however the event was delivered.
    trail = wait_until(
        lambda: gateway.get("/api/v1/audit", admin, params={"subject_id": request_id}).json()["items"],
        what="the audit entry of the assignment",
    )
    assert [(e["action"], e["actor"], e["actor_role"]) for e in trail] == [
        ("dispatch.assigned_by_hand", "e2e-dispatcher", "dispatcher")
    ]
    assert trail[0]["details"]["candidate_id"] == doctor and trail[0]["township"] == "吉巷乡"
    assert gateway.get("/api/v1/audit", ours, params={"subject_id": request_id}).status_code == 403


def test_review_rejects_with_a_reason_the_resident_reads(gateway, admin):
    policy = gateway.get("/api/v1/dispatch/policy", admin).json()
    changed = {
        **policy["policy"],
        "review_categories": ["culture"],
        "expected_version": policy["version"],
        "reason": "法律援助以外，文化活动也先审核",
    }
    put = gateway.call("PUT", "/api/v1/dispatch/policy", admin, json=changed)
    assert put.status_code == 200, put.text
    # The change is in the admins' trail: who, what (the versions, the parts changed), when, why.
    version = str(put.json()["version"])

    def policy_entries():
        items = gateway.get("/api/v1/audit", admin, params={"subject_id": "current", "limit": 100}).json()
        return [e for e in items["items"] if e["details"].get("version_after") == version]

    (entry,) = wait_until(policy_entries, what="the policy change's audit entry")
    assert (entry["action"], entry["actor_role"], entry["reason"]) == (
        "dispatch.policy_changed",
        "admin",
        "法律援助以外，文化活动也先审核",
    )
    assert entry["details"]["changed"] == "review_categories" and entry["at"]
    assert entry["actor"] == put.json()["updated_by"]
    assert (
        gateway.call("PUT", "/api/v1/dispatch/policy", bearer("dispatcher", "d"), json=changed).status_code
        == 403
    )
    invalid = gateway.call("PUT", "/api/v1/dispatch/policy", admin, json={"weights": {"load": -1}})
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["field"].startswith("weights")
    try:
        register_volunteers(gateway, admin, 1, township="水口镇", skills=("culture",))
        resident = bearer("resident", "e2e-review-resident")
        created = submit(gateway, resident, category="culture", township="水口镇", village="水口村")
        request_id = created.json()["id"]
        job_of(gateway, admin, request_id, "in_review")
        wait_until(lambda: request_status(gateway, resident, request_id) == "in_review", what="in review")
        dispatcher = bearer("dispatcher", "e2e-reviewer", township="水口镇")
        entry = next(
            e
            for e in gateway.get("/api/v1/dispatch/queue", dispatcher).json()["items"]
            if e["request_id"] == request_id
        )
        assert entry["waiting_for"] == "review"
        silent = gateway.post(
            f"/api/v1/dispatch/{request_id}/review", dispatcher, json={"decision": "reject"}
        )
        assert silent.status_code == 422 and silent.json()["errors"][0]["field"] == "reason"
        reason = "活动场地不在服务范围内"
        answer = gateway.post(
            f"/api/v1/dispatch/{request_id}/review", dispatcher, json={"decision": "reject", "reason": reason}
        )
        assert answer.status_code == 200 and answer.json()["status"] == "rejected"
        seen = wait_until(
            lambda: (
                (r := gateway.get(f"/api/v1/requests/{request_id}", resident).json())["status"] == "rejected"
                and r
            ),
            what="the rejection to reach the resident",
        )
        assert seen["rejection_reason"] == reason
        assert any(step["note"] == reason and reason in step["text"]["zh"] for step in seen["timeline"])
        again = gateway.post(
            f"/api/v1/dispatch/{request_id}/review", dispatcher, json={"decision": "approve"}
        )
        assert again.status_code == 409
    finally:
        restored = {**policy["policy"], "review_categories": []}
        assert gateway.call("PUT", "/api/v1/dispatch/policy", admin, json=restored).status_code == 200
