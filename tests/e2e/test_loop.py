"""Full loops through the gateway: order, dispatch, accept, serve, rate, close — and what must fail."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import SERVICES, scrape, total
from tests.support import PROFILE, bearer, wait_until

pytestmark = pytest.mark.e2e
TOWNSHIP = "城西街道"


def register_volunteers(gateway, admin, count, township=TOWNSHIP, skills=("elder_care",)):
    ids = []
    for number in range(count):
        body = {
            "name": f"志愿者{number}",
            "phone": f"1390000{number:04d}",
            "township": township,
            "skills": list(skills),
            "capacity": 3,
        }
        response = gateway.post("/api/v1/volunteers", admin, json=body)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    for volunteer_id in ids:  # dispatch learns of them from events; wait until it has
        wait_until(
            lambda v=volunteer_id: gateway.get(f"/api/v1/dispatch/volunteers/{v}", admin).ok,
            what=f"dispatch to know volunteer {volunteer_id}",
        )
    return ids


def submit(gateway, resident, **overrides):
    body = {
        "category": "elder_care",
        "title": "陪老人看病",
        "description": "周三上午陪同去县医院复查",
        "township": TOWNSHIP,
        "village": "西门社区",
        "contact_phone": "13712345678",
        **overrides,
    }
    return gateway.post("/api/v1/requests", resident, json=body)


def current_offer(gateway, admin, request_id, attempt):
    """(volunteer id, task id) of the request's offer number `attempt`, once dispatch has made it."""

    def check():
        response = gateway.get(f"/api/v1/dispatch/{request_id}", admin)
        attempts = response.json()["attempts"] if response.ok else []
        return (
            len(attempts) >= attempt
            and attempts[attempt - 1]["status"] == "offered"
            and attempts[attempt - 1]
        )

    found = wait_until(check, what=f"offer {attempt} of {request_id}")
    return found["volunteer_id"], found["task_id"]


def request_status(gateway, resident, request_id):
    return gateway.get(f"/api/v1/requests/{request_id}", resident).json()["status"]


def wait_in_inbox(gateway, volunteer, task_id):
    wait_until(
        lambda: any(t["id"] == task_id for t in gateway.get("/api/v1/tasks", volunteer).json()["items"]),
        what=f"task {task_id} in the volunteer's inbox",
    )


def service_code(gateway, resident, request_id):
    """The code the resident reads out to the volunteer (shown to them once the task is accepted)."""
    return wait_until(
        lambda: gateway.get(f"/api/v1/requests/{request_id}", resident).json().get("service_code"),
        what="the resident's service code",
    )


def serve(gateway, resident, volunteer, request_id, task_id):
    """Accept, then check in and out with the resident's code (docs/adr/0051)."""
    accepted = gateway.post(f"/api/v1/tasks/{task_id}/accept", volunteer)
    assert accepted.status_code == 200, f"accept: {accepted.text}"
    code = service_code(gateway, resident, request_id)
    for step in ("check-in", "complete"):
        response = gateway.post(f"/api/v1/tasks/{task_id}/{step}", volunteer, json={"code": code})
        assert response.status_code == 200, f"{step}: {response.text}"


def run_loop(gateway, admin, resident_id, *, decline_first=False, score=5):
    resident = bearer("resident", resident_id)
    created = submit(gateway, resident)
    assert created.status_code == 201, created.text
    request_id = created.json()["id"]

    volunteer_id, task_id = current_offer(gateway, admin, request_id, 1)
    volunteer = bearer("volunteer", volunteer_id)
    wait_in_inbox(gateway, volunteer, task_id)
    declined_by = None
    if decline_first:
        answer = gateway.post(f"/api/v1/tasks/{task_id}/decline", volunteer, json={"reason": "今天在外地"})
        assert answer.status_code == 200, answer.text
        declined_by = volunteer_id
        volunteer_id, task_id = current_offer(gateway, admin, request_id, 2)
        assert volunteer_id != declined_by
        volunteer = bearer("volunteer", volunteer_id)
        wait_in_inbox(gateway, volunteer, task_id)

    serve(gateway, resident, volunteer, request_id, task_id)
    wait_until(lambda: request_status(gateway, resident, request_id) == "completed", what="completed")
    rating = wait_until(
        lambda: (
            (
                r := gateway.post(
                    "/api/v1/ratings", resident, json={"request_id": request_id, "score": score}
                )
            ).status_code
            == 201
            and r
        ),
        what="the rating to be accepted",
    )
    assert rating.json()["score"] == score
    wait_until(lambda: request_status(gateway, resident, request_id) == "closed", what="closed")
    return {
        "request_id": request_id,
        "resident": resident,
        "volunteer_id": volunteer_id,
        "task_id": task_id,
        "declined_by": declined_by,
    }


def test_full_loops_reach_every_service(gateway, admin):
    register_volunteers(gateway, admin, 3)
    ports = {service: PROFILE[f"{service.upper()}_WORKER_METRICS_PORT"] for service in SERVICES}
    before = {service: scrape(port) for service, port in ports.items()}

    loops = [
        run_loop(gateway, admin, f"e2e-resident-{n}", decline_first=(n == 0), score=4 + n % 2)
        for n in range(4)
    ]

    for loop in loops:
        request = gateway.get(f"/api/v1/requests/{loop['request_id']}", loop["resident"]).json()
        kinds = [step["kind"] for step in request["timeline"]]
        assert (
            request["status"] == "closed"
            and kinds[0] == "request.submitted"
            and kinds[-1] == "request.closed"
        )
        assert {"task.offered", "task.accepted", "task.checked_in", "task.completed", "request.rated"} <= set(
            kinds
        )
        assert all(step["text"]["zh"] and step["text"]["en"] for step in request["timeline"])

        job = gateway.get(f"/api/v1/dispatch/{loop['request_id']}", admin).json()
        assert job["status"] == "completed"
        assert job["attempts"][-1]["status"] == "completed"

        volunteer = bearer("volunteer", loop["volunteer_id"])
        task = gateway.get(f"/api/v1/tasks/{loop['task_id']}", volunteer).json()
        assert task["status"] == "completed" and task["hours"] == 0.25  # minutes count as a quarter hour
        wait_until(
            lambda loop=loop: (
                gateway.get(
                    f"/api/v1/tasks/{loop['task_id']}", bearer("volunteer", loop["volunteer_id"])
                ).json()["rating_score"]
                is not None
            ),
            what="the score on the task",
        )

        rating = gateway.get(f"/api/v1/ratings/{loop['request_id']}", loop["resident"]).json()
        assert rating["status"] == "rated" and rating["volunteer_id"] == loop["volunteer_id"]

    first = loops[0]
    job = gateway.get(f"/api/v1/dispatch/{first['request_id']}", admin).json()
    assert [a["status"] for a in job["attempts"]] == ["declined", "completed"]
    assert job["declined_by"] == [first["declined_by"]]
    timeline = gateway.get(f"/api/v1/requests/{first['request_id']}", first["resident"]).json()["timeline"]
    assert "task.declined" in [step["kind"] for step in timeline]

    hours = {}
    for loop in loops:
        hours[loop["volunteer_id"]] = hours.get(loop["volunteer_id"], 0) + 0.25
    for volunteer_id, expected in hours.items():
        ledger = wait_until(
            lambda v=volunteer_id, e=expected: (
                (h := gateway.get(f"/api/v1/volunteers/{v}/hours", admin).json())["total_hours"] == e and h
            ),
            what="the hours ledger",
        )
        assert ledger["tasks"] == expected / 0.25

    after = {service: scrape(port) for service, port in ports.items()}
    closed = "civicloop_request_transitions_total"
    assert (
        total(after["requests"], closed, stage="closed") - total(before["requests"], closed, stage="closed")
        == 4
    )
    for service in SERVICES:
        moved = total(after[service], "civicloop_events_consumed_total", outcome="handled") - total(
            before[service], "civicloop_events_consumed_total", outcome="handled"
        )
        assert moved > 0, f"the {service} worker handled nothing"
    published = "civicloop_events_published_total"
    assert (
        total(after["ratings"], published, type="request.rated")
        - total(before["ratings"], published, type="request.rated")
        == 4
    )
    web = scrape(PROFILE["REQUESTS_WEB_PORT"])
    assert (
        total(web, "civicloop_http_requests_total", route="/api/v1/requests", method="POST", status="201")
        >= 4
    )


def test_bad_input_is_refused_and_changes_nothing(gateway, admin):
    register_volunteers(gateway, admin, 2, township="黄田镇", skills=("repairs",))
    owner = bearer("resident", "e2e-owner")
    listed_before = gateway.get("/api/v1/requests", owner).json()["items"]

    missing = submit(gateway, owner, category=None)
    assert missing.status_code == 422
    assert missing.headers["Content-Type"].startswith("application/problem+json")
    assert [e["field"] for e in missing.json()["errors"]] == ["category"]
    assert gateway.get("/api/v1/requests", owner).json()["items"] == listed_before

    loop_request = submit(gateway, owner, category="repairs", township="黄田镇").json()["id"]
    volunteer_id, task_id = current_offer(gateway, admin, loop_request, 1)
    intruder_id = next(
        v for v in register_volunteers(gateway, admin, 1, township="黄田镇", skills=("culture",))
    )
    intruder = bearer("volunteer", intruder_id)
    stolen = gateway.post(f"/api/v1/tasks/{task_id}/accept", intruder)
    assert stolen.status_code == 404
    assert stolen.headers["Content-Type"].startswith("application/problem+json")
    assert gateway.get(f"/api/v1/dispatch/{loop_request}", admin).json()["attempts"][0]["status"] == "offered"

    volunteer = bearer("volunteer", volunteer_id)
    wait_in_inbox(gateway, volunteer, task_id)
    serve(gateway, owner, volunteer, loop_request, task_id)
    wait_until(lambda: request_status(gateway, owner, loop_request) == "completed", what="completed")
    wait_until(lambda: gateway.get(f"/api/v1/ratings/{loop_request}", owner).ok, what="the rating slot")

    seven = gateway.post("/api/v1/ratings", owner, json={"request_id": loop_request, "score": 7})
    assert seven.status_code == 422 and seven.json()["errors"][0]["field"] == "score"
    someone_else = bearer("resident", "e2e-neighbour")
    foreign = gateway.post("/api/v1/ratings", someone_else, json={"request_id": loop_request, "score": 1})
    assert foreign.status_code == 403
    assert foreign.headers["Content-Type"].startswith("application/problem+json")
    slot = gateway.get(f"/api/v1/ratings/{loop_request}", owner).json()
    assert slot["status"] == "awaiting" and slot["score"] is None
    assert request_status(gateway, owner, loop_request) == "completed"
    assert gateway.get(f"/api/v1/requests/{loop_request}", someone_else).status_code == 404


def test_every_service_is_ready_and_documents_itself(gateway):
    for service in SERVICES:
        port = PROFILE[f"{service.upper()}_WEB_PORT"]
        ready = gateway.session.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
        assert ready.status_code == 200, ready.text
        document = gateway.session.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5).json()
        assert document["openapi"].startswith("3.") and document["paths"]
    unknown = gateway.get("/api/v1/nowhere")
    assert unknown.status_code == 404 and unknown.headers["Content-Type"].startswith(
        "application/problem+json"
    )
    echoed = gateway.get("/api/v1/catalog", {"X-Request-ID": "trace-me-1"})
    assert echoed.ok and echoed.headers["X-Request-ID"] == "trace-me-1"
    minted = gateway.get("/api/v1/catalog")
    assert len(minted.headers["X-Request-ID"]) >= 16
