"""Issue 15 through the gateway: one station identity, and one order per Idempotency-Key and body."""

from __future__ import annotations

import pytest

from services.common.ids import new_id
from tests.e2e.conftest import scrape, total
from tests.support import PROFILE, bearer, wait_until

pytestmark = pytest.mark.e2e


def _stations_known_to_requests() -> float:
    samples = scrape(PROFILE["REQUESTS_WORKER_METRICS_PORT"])
    return total(samples, "civicloop_events_consumed_total", type="station.updated", outcome="handled")


def _station(gateway, admin, township, village):
    body = {"code": f"E2E-{new_id()}", "name": f"{township}{village}新时代文明实践站", "township": township}
    response = gateway.post("/api/v1/stations", admin, json={**body, "kind": "village"})
    assert response.status_code == 201, response.text
    return response.json()


def _volunteer(gateway, admin, township, station_id, name):
    body = {"name": name, "township": township, "skills": ["repairs"], "station_id": station_id}
    response = gateway.post("/api/v1/volunteers", admin, json=body)
    assert response.status_code == 201, response.text
    volunteer_id = response.json()["id"]
    wait_until(lambda: gateway.get(f"/api/v1/dispatch/volunteers/{volunteer_id}", admin).ok, what="dispatch")
    return volunteer_id


def test_a_patrol_order_goes_first_to_its_own_villages_station(gateway, admin):
    """Issue 15 #9: 下洋村's repairs volunteer is offered a 下洋村 patrol order at proximity "station"."""
    known = _stations_known_to_requests()
    # Registered first, so the tie-break by id would favour the volunteer of the other village.
    elsewhere = _station(gateway, admin, "杉洋镇", "长洋村")
    other = _volunteer(gateway, admin, "杉洋镇", elsewhere["id"], "郑国强")
    xiayang = _station(gateway, admin, "杉洋镇", "下洋村")
    own = _volunteer(gateway, admin, "杉洋镇", xiayang["id"], "游德福")
    assert xiayang["village"] == "下洋村" and other < own
    wait_until(
        lambda: _stations_known_to_requests() >= known + 2, what="the requests stage to know the stations"
    )

    steward = bearer("steward", f"steward-{new_id()}", "杉洋镇")
    report = {
        "location": {"township": "杉洋镇", "village": "下洋村", "address": "村口桥头"},
        "description": "桥头护栏松动",
        "photo_urls": [],
        "tier": "reported_to_community",
        "category": "repairs",
    }
    filed = gateway.post("/api/v1/patrols", steward, json=report)
    assert filed.status_code == 201, filed.text
    request_id = filed.json()["request_id"]
    order = gateway.get(f"/api/v1/requests/{request_id}", steward).json()
    assert order["station_id"] == xiayang["id"] and order["village"] == "下洋村"

    def first_attempt():
        attempts = gateway.get(f"/api/v1/dispatch/{request_id}", admin).json().get("attempts") or []
        return attempts[0] if attempts else None

    attempt = wait_until(first_attempt, what="the first offer")
    assert attempt["volunteer_id"] == own and attempt["level"] == "station"
    assert attempt["considered"][0]["proximity"] == "station"
    assert gateway.get(f"/api/v1/dispatch/{request_id}", admin).json()["station_id"] == xiayang["id"]


def test_an_idempotency_key_names_one_body(gateway):
    """Issue 15 #6 through the gateway: another body under a used key is 422; the same body is the first."""
    resident = bearer("resident", f"resident-{new_id()}")
    headers = {**resident, "Idempotency-Key": f"key-{new_id()}"}
    body = {
        "category": "elder_care",
        "title": "帮忙买菜",
        "description": "腿脚不便",
        "township": "平湖镇",
        "village": "平湖村",
    }
    first = gateway.post("/api/v1/requests", headers, json=body)
    assert first.status_code == 201, first.text
    refused = gateway.post(
        "/api/v1/requests", headers, json={**body, "title": "修水管", "category": "repairs"}
    )
    assert refused.status_code == 422 and refused.headers["Content-Type"].startswith(
        "application/problem+json"
    )
    assert refused.json()["errors"][0]["field"] == "Idempotency-Key"
    again = gateway.post("/api/v1/requests", headers, json=body)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    mine = gateway.get("/api/v1/requests", resident).json()["items"]
    assert [(r["id"], r["title"]) for r in mine] == [(first.json()["id"], "帮忙买菜")]


def test_a_request_line_the_gateway_lets_through_is_answered_as_the_api_does(gateway):
    """Found by fuzzing: a 4-8 KB request line passed nginx and met gunicorn's 4 KB limit, an HTML 414."""
    volunteer = bearer("volunteer", f"volunteer-{new_id()}")
    long_query = {"status": "offered", "padding": "x" * 6000}
    answer = gateway.get("/api/v1/tasks", volunteer, params=long_query)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/json")
    too_long = gateway.get("/api/v1/tasks", volunteer, params={"padding": "x" * 9000})
    assert too_long.status_code == 414
    assert too_long.headers["Content-Type"].startswith("application/problem+json")
