"""Patrols, wishes, Open311 and the catalogue in the requests stage, against the real broker and database."""

from __future__ import annotations

import xmltodict
from prometheus_client.parser import text_string_to_metric_families

from services.common.ids import new_id, utcnow
from services.common.store import to_state
from services.requests.orders.models import RequestDocument
from services.requests.patrols import domain as patrols
from services.requests.patrols import usecases as patrol_usecases
from services.requests.patrols.models import PatrolReportDocument, patrol_store
from tests import factories
from tests.support import bearer, event, publish, wait_until

SERVICE = "requests"
STEWARD = bearer("steward", "steward-it-1", "城西街道")
OTHER_STEWARD = bearer("steward", "steward-it-2")
TOWNSHIP_STAFF = bearer("dispatcher", "disp-it-1", "城西街道")
FAR_STAFF = bearer("dispatcher", "disp-it-2", "卓洋乡")
COUNTY_STAFF = bearer("admin", "admin-it-1")
KEY = "it-open311-key"


def patrol(harness, who=STEWARD, **overrides):
    body = {
        "location": {"township": "城西街道", "village": "西门社区", "address": "解放路12号"},
        "description": "路灯不亮",
        "photo_urls": ["https://photos.example.cn/p/1.jpg"],
        "tier": "resolved_on_site",
        "resolution_note": "换了灯泡",
    }
    body.update(overrides)
    return harness.call("POST", "/api/v1/patrols", who, json=body)


def test_a_report_resolved_on_site_is_closed_with_its_note_and_counted(harness):
    response = patrol(harness)
    assert response.status_code == 201, response.get_json()
    report = response.get_json()
    assert report["status"] == "closed" and report["resolution_note"] == "换了灯泡"
    assert report["tier_text"]["zh"] == "现场解决" and report["request_id"] is None
    stored = PatrolReportDocument._get_collection().find_one({"_id": report["id"]})
    assert (stored["tier"], stored["township"]) == ("resolved_on_site", "城西街道") and stored["reported_at"]
    web = harness.client.get("/metrics").get_data(as_text=True)
    counted = [
        sample.value
        for family in text_string_to_metric_families(web)
        for sample in family.samples
        if sample.name == "civicloop_patrol_reports_total"
        and sample.labels == {"tier": "resolved_on_site", "township": "城西街道"}
    ]
    assert counted and counted[0] >= 1


def known_station(harness, **fields):
    """Announce a station as the volunteers stage would, and wait until this stage keeps it."""
    from services.requests.stations.models import KnownStation

    station = factories.station_updated(**fields)
    publish(harness.settings.amqp_url, event(station, correlation_id=station.station_id))
    wait_until(lambda: KnownStation.objects(id=station.station_id).first(), what="the station read-model")
    return station


def test_orders_carry_the_id_of_their_villages_station(harness):
    """Issue 15 #9: a village's order carries its station's id; the newest announcement wins."""
    from services.common.inbox import ProcessedEvent
    from services.requests.stations.models import KnownStation

    station = known_station(harness, township="杉洋镇", village="下洋村", name="杉洋镇下洋村新时代文明实践站")
    guidance = known_station(harness, township="杉洋镇", village="下洋村", kind="family_education", code="F1")
    steward = bearer("steward", "steward-it-3", "杉洋镇")
    location = {"township": "杉洋镇", "village": "下洋村"}
    response = patrol(
        harness, who=steward, tier="reported_to_community", resolution_note=None, location=location
    )
    announced = harness.bus.wait_for("request.submitted", request_id=response.get_json()["request_id"])
    assert announced.data["station_id"] == station.station_id != guidance.station_id
    assert (
        announced.data["station"] == "杉洋镇下洋村新时代文明实践站" and announced.data["village"] == "下洋村"
    )
    order = harness.call("GET", f"/api/v1/requests/{announced.data['request_id']}", steward).get_json()
    assert order["station_id"] == station.station_id
    # A resident's own order in the village goes to the same station.
    body = {"category": "repairs", "title": "修门", "description": "门坏了", **location}
    mine = harness.call("POST", "/api/v1/requests", bearer("resident", "resident-xy"), json=body).get_json()
    assert mine["station_id"] == station.station_id
    # An older announcement arriving late changes nothing; a newer one renames the station.
    stale = factories.station_updated(**{**station.model_dump(), "name": "旧名", "station_version": 1})
    renamed = factories.station_updated(
        **{**station.model_dump(), "name": "下洋村实践站", "station_version": 2}
    )
    late = event(stale, correlation_id="s")
    publish(harness.settings.amqp_url, event(renamed, correlation_id="s"), late)
    wait_until(lambda: ProcessedEvent.objects(id=late["id"]).first(), what="the late announcement handled")
    assert KnownStation.objects(id=station.station_id).first().name == "下洋村实践站"
    # A village without a station: no station id, and dispatch looks through the township.
    elsewhere = {**body, "village": "无站村"}
    none = harness.call(
        "POST", "/api/v1/requests", bearer("resident", "resident-xy"), json=elsewhere
    ).get_json()
    assert none["station_id"] is None and none["station"] is None


def test_a_community_report_enters_the_loop_once_as_a_patrol_order(harness):
    response = patrol(
        harness,
        tier="reported_to_community",
        resolution_note=None,
        category="repairs",
        location={"township": "城西街道", "village": "西门社区", "latitude": 26.58, "longitude": 118.74},
    )
    assert response.status_code == 201, response.get_json()
    report = response.get_json()
    assert report["status"] == "in_loop" and report["request_status"] == "submitted"
    announced = harness.bus.wait_for("request.submitted", request_id=report["request_id"])
    assert announced.data["source"] == "patrol" and announced.data["source_ref"] == report["id"]
    assert announced.data["village"] == "西门社区" and announced.data["latitude"] == 26.58
    assert announced.data["resident_id"] == "steward-it-1"
    order = harness.call("GET", f"/api/v1/requests/{report['request_id']}", STEWARD).get_json()
    assert order["source"] == "patrol" and order["timeline"][0]["said"]["zh"].startswith("您巡查时发现问题")

    # Creating the order again (a retry, or the sweep after a crash) changes nothing.
    patrol_usecases._enter_loop(patrol_usecases.get_report(report["id"]), causation_id="again")
    assert RequestDocument.objects(source_ref=report["id"]).count() == 1

    # The loop closes the order; the report reads as closed with it.
    ids = {"request_id": report["request_id"], "task_id": "t-patrol"}
    publish(
        harness.settings.amqp_url,
        event(factories.task_accepted(**ids)),
        event(factories.task_completed(**ids, resident_id="steward-it-1")),
        event(factories.request_rated(request_id=report["request_id"], resident_id="steward-it-1", score=5)),
    )
    wait_until(
        lambda: (
            harness.call("GET", f"/api/v1/patrols/{report['id']}", STEWARD).get_json()["status"] == "closed"
        ),
        what="the report to close with its order",
    )
    wait_until(
        lambda: PatrolReportDocument.objects(id=report["id"]).first().status == "closed",
        timeout=20,
        what="the worker to settle the stored report",
    )
    closed = harness.call(
        "GET", "/api/v1/patrols?status=closed&tier=reported_to_community", STEWARD
    ).get_json()
    assert report["id"] in [item["id"] for item in closed["items"]]


def test_a_report_whose_order_was_never_written_is_finished_by_the_sweep(harness):
    # As if the web process died between storing the report and creating its order.
    finding = patrols.Finding(
        steward_id="steward-it-1",
        township="城西街道",
        village="北门社区",
        description="垃圾堆积",
        tier=patrols.Tier.REPORTED_TO_COMMUNITY,
        category="environment",
    )
    report = patrols.report(
        finding, report_id=new_id(), request_id=new_id(), now=utcnow() - patrol_usecases.SWEEP_AFTER * 2
    )
    patrol_store.insert(report.id, {**to_state(report), "idempotency_scope": report.id}, [])
    assert RequestDocument.objects(id=report.request_id).count() == 0
    wait_until(
        lambda: PatrolReportDocument.objects(id=report.id).first().request_created,
        timeout=20,
        what="the worker's sweep to create the order",
    )
    harness.bus.wait_for("request.submitted", request_id=report.request_id)
    assert RequestDocument.objects(source_ref=report.id).count() == 1


def test_the_same_idempotency_key_files_one_report(harness):
    headers = {**STEWARD, "Idempotency-Key": "patrol-key-1"}
    body = {"tier": "reported_to_community", "resolution_note": None, "category": "environment"}
    first = patrol(harness, who=headers, **body)
    again = patrol(harness, who=headers, **body)
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json()["id"] == first.get_json()["id"]
    assert PatrolReportDocument.objects(idempotency_scope="steward-it-1:patrol-key-1").count() == 1
    assert RequestDocument.objects(source_ref=first.get_json()["id"]).count() == 1
    refused = patrol(harness, who=headers, **{**body, "description": "另一处问题"})
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "Idempotency-Key"
    assert PatrolReportDocument.objects(idempotency_scope="steward-it-1:patrol-key-1").count() == 1


def test_a_joint_consultation_gathers_meetings_then_closes(harness):
    refused = patrol(harness, tier="joint_consultation", resolution_note=None, parties=["社区"])
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "parties"
    case = patrol(
        harness, tier="joint_consultation", resolution_note=None, parties=["西门社区", "物业公司", "业主代表"]
    ).get_json()
    assert case["status"] == "consulting"
    early = harness.call(
        "POST", f"/api/v1/patrols/{case['id']}/close", STEWARD, json={"resolution_note": "x"}
    )
    assert early.status_code == 409
    meeting = {
        "held_at": "2026-11-29T10:00:00+08:00",
        "attendees": ["社区主任", "物业经理", "业主代表"],
        "summary": "商量楼道堆物清理",
        "decision": "周六集中清理",
    }
    stranger = harness.call("POST", f"/api/v1/patrols/{case['id']}/meetings", FAR_STAFF, json=meeting)
    assert stranger.status_code == 404
    added = harness.call("POST", f"/api/v1/patrols/{case['id']}/meetings", TOWNSHIP_STAFF, json=meeting)
    assert added.status_code == 201 and added.get_json()["meetings"][0]["decision"] == "周六集中清理"
    closed = harness.call(
        "POST", f"/api/v1/patrols/{case['id']}/close", STEWARD, json={"resolution_note": "已清理"}
    )
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    again = harness.call("POST", f"/api/v1/patrols/{case['id']}/meetings", STEWARD, json=meeting)
    assert again.status_code == 409


def test_patrol_input_and_access_are_checked(harness):
    before = PatrolReportDocument.objects.count()
    bad_link = patrol(harness, photo_urls=["javascript:alert(1)"])
    assert bad_link.status_code == 422 and bad_link.get_json()["errors"][0]["field"] == "photo_urls[0]"
    no_note = patrol(harness, resolution_note=None)
    assert no_note.status_code == 422 and no_note.get_json()["errors"][0]["field"] == "resolution_note"
    elsewhere = patrol(harness, location={"township": "卓洋乡", "village": "卓洋村"})
    assert elsewhere.status_code == 403
    assert patrol(harness, who=bearer("resident", "r1")).status_code == 403
    assert PatrolReportDocument.objects.count() == before

    mine = patrol(harness).get_json()["id"]
    assert harness.call("GET", f"/api/v1/patrols/{mine}", OTHER_STEWARD).status_code == 404
    assert harness.call("GET", f"/api/v1/patrols/{mine}", FAR_STAFF).status_code == 404
    assert harness.call("GET", f"/api/v1/patrols/{mine}", TOWNSHIP_STAFF).status_code == 200
    listed = harness.call("GET", "/api/v1/patrols?tier=resolved_on_site", COUNTY_STAFF).get_json()["items"]
    assert mine in [item["id"] for item in listed] and {item["tier"] for item in listed} == {
        "resolved_on_site"
    }
    assert harness.call("GET", "/api/v1/patrols", OTHER_STEWARD).get_json()["items"] == []
    assert harness.call("GET", "/api/v1/patrols?township=平湖镇", TOWNSHIP_STAFF).status_code == 403


WISH = {
    "beneficiary": {
        "name": "张秀英",
        "flags": ["living_alone", "elderly"],
        "township": "城西街道",
        "village": "西门社区",
        "phone": "13812345678",
    },
    "title": "想要一台收音机",
    "description": "老人眼睛不好，想听戏",
}


def test_a_wish_is_an_order_from_staff_and_the_wall_follows_its_progress(harness):
    created = harness.call("POST", "/api/v1/wishes", TOWNSHIP_STAFF, json=WISH)
    assert created.status_code == 201, created.get_json()
    wish = created.get_json()
    assert wish["state"] == "open" and wish["beneficiary"]["name"] == "张秀英"
    announced = harness.bus.wait_for("request.submitted", request_id=wish["id"])
    assert announced.data["source"] == "wish" and announced.data["resident_id"] == "disp-it-1"

    volunteer = bearer("volunteer", "volunteer-1")
    wall = harness.call("GET", "/api/v1/wishes", volunteer).get_json()["items"]
    shown = next(item for item in wall if item["id"] == wish["id"])
    assert shown["beneficiary"]["name"] == "张*英" and shown["beneficiary"]["phone"] == "138****5678"
    assert shown["posted_by"] is None

    ids = {"request_id": wish["id"], "task_id": "t-wish"}
    publish(harness.settings.amqp_url, event(factories.task_accepted(**ids)))
    wait_until(
        lambda: (
            harness.call("GET", f"/api/v1/wishes/{wish['id']}", volunteer).get_json()["state"] == "claimed"
        ),
        what="claimed",
    )
    publish(harness.settings.amqp_url, event(factories.task_completed(**ids, resident_id="disp-it-1")))
    wait_until(
        lambda: harness.call("GET", "/api/v1/wishes?state=fulfilled", volunteer).get_json()["items"],
        what="the wish on the fulfilled wall",
    )
    fulfilled = harness.call("GET", f"/api/v1/wishes/{wish['id']}", TOWNSHIP_STAFF).get_json()
    assert fulfilled["state_text"]["zh"] == "已圆梦" and fulfilled["fulfilled_at"]
    still_open = harness.call("GET", "/api/v1/wishes?state=open", volunteer).get_json()["items"]
    assert wish["id"] not in [item["id"] for item in still_open]


def test_only_staff_post_wishes_and_only_for_their_township(harness):
    assert harness.call("POST", "/api/v1/wishes", bearer("volunteer", "v"), json=WISH).status_code == 403
    far = harness.call("POST", "/api/v1/wishes", FAR_STAFF, json=WISH)
    assert far.status_code == 403 and far.get_json()["errors"][0]["field"] == "beneficiary.township"
    flagged = {**WISH, "beneficiary": {**WISH["beneficiary"], "flags": ["rich"]}}
    bad = harness.call("POST", "/api/v1/wishes", COUNTY_STAFF, json=flagged)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"].startswith("beneficiary.flags")
    assert harness.call("GET", "/api/v1/wishes", {}).status_code == 401


def open311_post(harness, fmt="json", **overrides):
    form = {
        "api_key": KEY,
        "service_code": "repairs",
        "lat": "26.58",
        "long": "118.74",
        "address_string": "城西街道解放路1号",
        "attribute[township]": "城西街道",
        "attribute[village]": "西门社区",
        "description": "楼道灯坏了",
        "email": "li@example.cn",
        "phone": "13912345678",
        "first_name": "Li",
        "last_name": "Lei",
    }
    form.update(overrides)
    form = {key: value for key, value in form.items() if value is not None}
    return harness.client.post(f"/open311/v2/requests.{fmt}", data=form)


def test_open311_posts_become_orders_and_are_found_by_id_token_and_filters(harness, monkeypatch):
    monkeypatch.setattr(harness.client.application.config["CIVICLOOP_SETTINGS"], "open311_api_key", KEY)
    posted = open311_post(harness)
    assert posted.status_code == 201, posted.get_data(as_text=True)
    answer = posted.get_json()[0]
    request_id, token = answer["service_request_id"], answer["token"]
    announced = harness.bus.wait_for("request.submitted", request_id=request_id)
    assert announced.data["source"] == "open311" and announced.data["source_ref"] == token
    assert announced.data["contact_phone_masked"] == "139****5678" and announced.data["longitude"] == 118.74

    one = harness.client.get(f"/open311/v2/requests/{request_id}.json").get_json()
    assert one[0]["status"] == "open" and one[0]["description"] == "楼道灯坏了" and one[0]["lat"] == 26.58
    assert "li@example.cn" not in harness.client.get(f"/open311/v2/requests/{request_id}.json").get_data(
        as_text=True
    )
    by_token = xmltodict.parse(harness.client.get(f"/open311/v2/tokens/{token}.xml").get_data())
    assert by_token["service_requests"]["request"]["service_request_id"] == request_id

    xml = open311_post(harness, fmt="xml", service_code="culture", description="想办读书会")
    assert xml.status_code == 201 and xml.content_type.startswith("text/xml")
    culture_id = xmltodict.parse(xml.get_data())["service_requests"]["request"]["service_request_id"]
    listed = harness.client.get("/open311/v2/requests.json?service_code=culture&status=open").get_json()
    assert [item["service_request_id"] for item in listed] == [culture_id]
    both = harness.client.get(
        f"/open311/v2/requests.json?service_request_id={request_id},{culture_id}"
    ).get_json()
    assert {item["service_request_id"] for item in both} == {request_id, culture_id}
    assert harness.client.get("/open311/v2/requests.json?service_code=culture&status=closed").get_json() == []
    past = harness.client.get(
        "/open311/v2/requests.json?start_date=2020-01-01T00:00:00Z&end_date=2020-02-01T00:00:00Z"
    )
    assert past.get_json() == []

    # The loop moves the order on; Open311 reads it as closed once the service is done.
    ids = {"request_id": request_id, "task_id": "t-311"}
    publish(
        harness.settings.amqp_url,
        event(factories.task_accepted(**ids)),
        event(factories.task_completed(**ids)),
    )
    wait_until(
        lambda: (
            harness.client.get(f"/open311/v2/requests/{request_id}.json").get_json()[0]["status"] == "closed"
        ),
        what="closed in Open311",
    )
    notes = harness.client.get(f"/open311/v2/requests/{request_id}.json").get_json()[0]["status_notes"]
    assert notes == "Service completed / 服务已完成"


def test_open311_refusals_are_in_its_own_error_format_and_write_nothing(harness, monkeypatch):
    monkeypatch.setattr(harness.client.application.config["CIVICLOOP_SETTINGS"], "open311_api_key", KEY)
    before = RequestDocument.objects.count()
    for overrides, status, words in (
        ({"api_key": None}, 403, "api_key is required"),
        ({"api_key": "wrong"}, 403, "api_key is not valid"),
        ({"service_code": "nope"}, 400, "service_code"),
        ({"lat": None, "long": None, "address_string": None}, 400, "location"),
        ({"attribute[township]": None}, 400, "attribute[township]"),
    ):
        response = open311_post(harness, **overrides)
        assert response.status_code == status, (overrides, response.get_data(as_text=True))
        assert words in response.get_json()[0]["description"] and response.get_json()[0]["code"] == status
    xml = open311_post(harness, fmt="xml", api_key="wrong")
    assert xml.status_code == 403 and xmltodict.parse(xml.get_data())["errors"]["error"]["code"] == "403"
    assert RequestDocument.objects.count() == before
    assert harness.client.get("/open311/v2/services/nope.json").status_code == 404
    assert harness.client.get("/open311/v2/requests/nope.xml").status_code == 404
    assert harness.client.get("/open311/v2/tokens/nope.json").status_code == 404
    assert harness.client.get("/open311/v2/services.html").status_code == 404
    wrong_place = harness.client.get("/open311/v2/services.json?jurisdiction_id=elsewhere.gov")
    assert wrong_place.status_code == 404 and "jurisdiction_id" in wrong_place.get_json()[0]["description"]
    bad_dates = harness.client.get(
        "/open311/v2/requests.json?start_date=2026-01-01&end_date=2026-12-01T00:00:00Z"
    )
    assert bad_dates.status_code == 400


def test_the_catalogue_lists_deadlines_by_urgency_and_review(harness):
    catalogue = {
        item["code"]: item for item in harness.call("GET", "/api/v1/catalog", {}).get_json()["items"]
    }
    assert len(catalogue) == 10 and catalogue["legal_aid"]["needs_review"] is True
    assert catalogue["repairs"]["deadlines"]["urgent"]["respond_within_minutes"] == 15
    assert catalogue["elder_care"]["description"]["zh"]
    legal = harness.call(
        "POST",
        "/api/v1/requests",
        bearer("resident", "res-legal"),
        json={
            "category": "legal_aid",
            "title": "咨询",
            "description": "邻里纠纷",
            "township": "平湖镇",
            "village": "平湖村",
        },
    ).get_json()
    assert harness.bus.wait_for("request.submitted", request_id=legal["id"]).data["needs_review"] is True
    assert legal["deadlines"]["respond_by"] > legal["submitted_at"]
