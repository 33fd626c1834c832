"""The county's practice through the gateway: catalogue, patrols, micro-wishes, Open311, the spoken timeline.

Open311 is driven with `georeport` (a published GeoReport v2 client) for everything it can do —
services, definitions, request searches and single requests, in JSON and XML; it cannot post or
follow tokens, so those calls are made as the spec describes them (a form POST, GET tokens/{t}).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
import xmltodict
from georeport import GeoReport

from services.common.ids import isoformat, utcnow
from services.requests.open311.domain import JURISDICTION
from tests.e2e.conftest import scrape, total
from tests.e2e.test_loop import (
    current_offer,
    register_volunteers,
    request_status,
    run_loop,
    service_code,
    wait_in_inbox,
)
from tests.e2e.test_loop import serve as serve_task
from tests.support import PROFILE, bearer, wait_until

pytestmark = pytest.mark.e2e


def serve(gateway, admin, request_id, owner):
    """Take the first offer of a request through accept, check-in and check-out with the owner's code."""
    volunteer_id, task_id = current_offer(gateway, admin, request_id, 1)
    volunteer = bearer("volunteer", volunteer_id)
    wait_in_inbox(gateway, volunteer, task_id)
    serve_task(gateway, owner, volunteer, request_id, task_id)
    return volunteer_id


def rate(gateway, who, request_id, score):
    return wait_until(
        lambda: (
            (
                r := gateway.post("/api/v1/ratings", who, json={"request_id": request_id, "score": score})
            ).status_code
            == 201
            and r
        ),
        what="the rating to be accepted",
    )


def test_the_catalogue_through_the_gateway(gateway):
    items = gateway.get("/api/v1/catalog").json()["items"]
    assert [item["code"] for item in items][:3] == ["elder_care", "study_help", "family_education"]
    assert all(item["name"]["zh"] and item["name"]["en"] and item["deadlines"]["urgent"] for item in items)
    assert {item["code"] for item in items if item["needs_review"]} == {"legal_aid"}


def test_patrol_reports_in_all_three_tiers_and_the_community_one_runs_the_loop(gateway, admin):
    register_volunteers(gateway, admin, 1, township="凤都镇", skills=("repairs",))
    steward = bearer("steward", "e2e-steward-1", "凤都镇")
    staff = bearer("dispatcher", "e2e-disp-fengdu", "凤都镇")
    web_before = scrape(PROFILE["REQUESTS_WEB_PORT"])
    where = {
        "township": "凤都镇",
        "village": "凤都村",
        "address": "凤都街5号",
        "latitude": 26.7,
        "longitude": 118.9,
    }

    def file(**body):
        response = gateway.post(
            "/api/v1/patrols",
            steward,
            json={
                "location": where,
                "description": "路灯不亮",
                "photo_urls": ["https://p.example.cn/1.jpg"],
                **body,
            },
        )
        assert response.status_code == 201, response.text
        return response.json()

    on_site = file(tier="resolved_on_site", resolution_note="换了灯泡")
    community = file(tier="reported_to_community", category="repairs", urgency="high")
    case = file(tier="joint_consultation", parties=["凤都村委", "供电所"])
    assert (on_site["status"], community["status"], case["status"]) == ("closed", "in_loop", "consulting")

    request_id = community["request_id"]
    order = gateway.get(f"/api/v1/requests/{request_id}", steward).json()
    assert (
        order["source"] == "patrol"
        and order["source_ref"] == community["id"]
        and order["village"] == "凤都村"
    )  # its station, when the village has one, is tested in test_hardening.py
    serve(gateway, admin, request_id, steward)
    wait_until(lambda: request_status(gateway, steward, request_id) == "completed", what="completed")
    rate(gateway, steward, request_id, 5)
    wait_until(
        lambda: gateway.get(f"/api/v1/patrols/{community['id']}", steward).json()["status"] == "closed",
        what="the community report to close with its order",
    )

    meeting = {
        "held_at": "2026-11-29T15:00:00+08:00",
        "attendees": ["村主任", "供电所所长"],
        "summary": "协商修灯",
    }
    assert gateway.post(f"/api/v1/patrols/{case['id']}/meetings", staff, json=meeting).status_code == 201
    closed = gateway.post(
        f"/api/v1/patrols/{case['id']}/close", staff, json={"resolution_note": "供电所周五修复"}
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"

    listed = gateway.get("/api/v1/patrols?township=凤都镇", staff).json()["items"]
    assert {item["tier"] for item in listed} == {
        "resolved_on_site",
        "reported_to_community",
        "joint_consultation",
    }
    web_after = scrape(PROFILE["REQUESTS_WEB_PORT"])
    for tier in ("resolved_on_site", "reported_to_community", "joint_consultation"):
        counted = total(web_after, "civicloop_patrol_reports_total", tier=tier, township="凤都镇") - total(
            web_before, "civicloop_patrol_reports_total", tier=tier, township="凤都镇"
        )
        assert counted == 1, tier
    wait_until(
        lambda: (
            total(
                scrape(PROFILE["REQUESTS_WORKER_METRICS_PORT"]),
                "civicloop_patrol_reports_stored",
                township="凤都镇",
            )
            == 3
        ),
        what="the worker's gauge of stored reports",
    )


def test_a_micro_wish_goes_from_the_wall_to_a_volunteer_and_is_rated_by_staff(gateway, admin):
    volunteers = register_volunteers(gateway, admin, 1, township="水口镇", skills=("culture",))
    staff = bearer("dispatcher", "e2e-disp-shuikou", "水口镇")
    body = {
        "beneficiary": {
            "name": "陈阿婆",
            "flags": ["living_alone", "elderly"],
            "township": "水口镇",
            "village": "水口村",
        },
        "title": "想要一副老花镜",
        "description": "看不清药盒上的字",
    }
    posted = gateway.post("/api/v1/wishes", staff, json=body)
    assert posted.status_code == 201, posted.text
    wish = posted.json()
    resident_view = bearer("resident", "e2e-neighbour-2")
    wall = gateway.get("/api/v1/wishes?township=水口镇", resident_view).json()["items"]
    assert [(item["id"], item["state"], item["beneficiary"]["name"]) for item in wall] == [
        (wish["id"], "open", "陈*婆")
    ]

    # Wishes skip the offers: they wait on the wish wall's pool until a volunteer claims one.
    (volunteer_id,) = volunteers
    volunteer = bearer("volunteer", volunteer_id)
    wait_until(
        lambda: any(
            e["request_id"] == wish["id"] for e in gateway.get("/api/v1/pool", volunteer).json()["items"]
        ),
        what="the wish in the claim pool",
    )
    claimed = gateway.post(f"/api/v1/pool/{wish['id']}/claim", volunteer)
    assert claimed.status_code == 201, claimed.text
    code = service_code(gateway, staff, wish["id"])
    for step in ("check-in", "complete"):
        answer = gateway.post(f"/api/v1/tasks/{claimed.json()['id']}/{step}", volunteer, json={"code": code})
        assert answer.status_code == 200, f"{step}: {answer.text}"
    wait_until(
        lambda: gateway.get(f"/api/v1/wishes/{wish['id']}", staff).json()["state"] == "fulfilled",
        what="fulfilled",
    )
    rate(gateway, staff, wish["id"], 5)
    fulfilled = wait_until(
        lambda: (w := gateway.get(f"/api/v1/wishes/{wish['id']}", staff).json())["rating_score"] == 5 and w,
        what="the staff rating on the wish",
    )
    assert fulfilled["state_text"]["en"] == "Fulfilled" and fulfilled["volunteer"]
    timeline = gateway.get(f"/api/v1/requests/{wish['id']}", staff).json()["timeline"]
    assert timeline[0]["said"]["zh"] == "您为陈*婆发布了微心愿「想要一副老花镜」"
    assert timeline[-1]["said"]["zh"] == "这件事办结了，谢谢您"


def test_open311_through_the_gateway_with_a_published_client(gateway, admin):
    register_volunteers(gateway, admin, 1, township="城东街道", skills=("environment",))
    root = gateway.base_url + "/open311/v2"
    key = PROFILE["CIVICLOOP_OPEN311_API_KEY"]
    as_json = GeoReport(root, jurisdiction=JURISDICTION, api_key=key)
    as_xml = GeoReport(root, jurisdiction=JURISDICTION, api_key=key, output_format="xml")

    services = as_json.get_service_list()
    assert len(services) == 10 and all(service["metadata"] is True for service in services)
    assert [s["service_code"] for s in as_xml.get_service_list()] == [s["service_code"] for s in services]
    definition = as_json.get_service_definition("repairs")
    assert [attribute["code"] for attribute in definition["attributes"]] == ["township", "village", "urgency"]
    xml_definition = as_xml.get_service_definition("repairs")
    assert xml_definition["attributes"]["attribute"][0]["required"] == "true"
    with pytest.raises(requests.HTTPError) as missing:
        as_json.get_service_definition("nope")
    assert missing.value.response.status_code == 404
    assert missing.value.response.json() == [{"code": 404, "description": "service_code 'nope' not found"}]

    discovery = requests.get(root + "/discovery.json", timeout=10).json()
    assert discovery["endpoints"][0]["url"] == root and "text/xml" in discovery["endpoints"][0]["formats"]

    # The client cannot post; post as the spec says: a form with the api_key and attribute[...] fields.
    form = {
        "jurisdiction_id": JURISDICTION,
        "api_key": key,
        "service_code": "environment",
        "lat": "26.58",
        "long": "118.74",
        "address_string": "城东街道六一路8号",
        "attribute[township]": "城东街道",
        "attribute[village]": "六一社区",
        "description": "垃圾桶满了没人清",
        "first_name": "Wang",
        "phone": "13600001111",
    }
    posted = requests.post(root + "/requests.json", data=form, timeout=10)
    assert posted.status_code == 201, posted.text
    request_id, token = posted.json()[0]["service_request_id"], posted.json()[0]["token"]
    refused = requests.post(root + "/requests.xml", data={**form, "api_key": "wrong"}, timeout=10)
    assert refused.status_code == 403 and xmltodict.parse(refused.content)["errors"]["error"]["code"] == "403"
    followed = requests.get(f"{root}/tokens/{token}.json", timeout=10).json()
    assert followed == [{"service_request_id": request_id, "token": token}]

    one = as_json.get_service_request(request_id)
    assert one["status"] == "open" and one["service_code"] == "environment" and one["lat"] == 26.58
    assert as_xml.get_service_request(request_id)["service_request_id"] == request_id
    since = isoformat(utcnow() - timedelta(hours=1))
    until = isoformat(utcnow() + timedelta(minutes=5))
    found = as_json.get_service_requests(
        service_code="environment", status="open", start_date=since, end_date=until
    )
    assert request_id in [item["service_request_id"] for item in found]
    by_ids = as_xml.get_service_requests(service_request_id=request_id)
    assert by_ids["service_request_id"] == request_id and by_ids["status"] == "open"

    # The order runs the loop like any other; Open311 then reports it closed with notes.
    serve(gateway, admin, request_id, admin)
    closed = wait_until(
        lambda: (r := as_json.get_service_request(request_id))["status"] == "closed" and r,
        what="closed in Open311",
    )
    assert closed["status_notes"] == "Service completed / 服务已完成"
    assert request_id in [r["service_request_id"] for r in as_json.get_service_requests(status="closed")]
    assert request_id not in [r["service_request_id"] for r in as_json.get_service_requests(status="open")]


def test_the_residents_timeline_reads_as_people_talk(gateway, admin):
    register_volunteers(gateway, admin, 1)
    loop = run_loop(gateway, admin, "e2e-talk-resident", score=4)
    mine = gateway.get(f"/api/v1/requests/{loop['request_id']}", loop["resident"]).json()["timeline"]
    said = {step["kind"]: step for step in mine}
    assert said["request.submitted"]["said"]["zh"] == "您提交了需求「陪老人看病」"
    assert said["task.accepted"]["said"]["en"].startswith("Volunteer …")
    assert said["task.accepted"]["who"] == {
        "role": "volunteer",
        "label": {
            "zh": f"志愿者…{loop['volunteer_id'][-4:]}",
            "en": f"volunteer …{loop['volunteer_id'][-4:]}",
        },
        "id": None,
    }
    assert said["task.completed"]["said"]["zh"].endswith("用时0.25小时，请您评价")
    assert said["request.rated"]["said"] == {"zh": "您给了4星评价", "en": "You gave 4 stars"}
    assert said["request.closed"]["status_text"] == {"zh": "已办结", "en": "Closed"}
    assert all(step["when"]["zh"] and step["status_text"]["en"] for step in mine)
    assert [step["at"] for step in mine] == sorted(step["at"] for step in mine)

    staff = gateway.get(f"/api/v1/requests/{loop['request_id']}", admin).json()["timeline"]
    accepted = next(step for step in staff if step["kind"] == "task.accepted")
    assert accepted["who"]["id"] == loop["volunteer_id"]
    assert (
        next(step for step in staff if step["kind"] == "request.rated")["said"]["en"]
        == "The resident gave 4 stars"
    )
