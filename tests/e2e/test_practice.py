"""The county's practice through the gateway: coded hours, follow-ups, pairing visits, the organisation."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pypdf
import pytest

from civicloop.demo_loader import load_demo
from tests.e2e.conftest import scrape, total
from tests.e2e.test_loop import current_offer, register_volunteers, service_code, submit, wait_in_inbox
from tests.support import PROFILE, SECRET, bearer, wait_until

pytestmark = pytest.mark.e2e


def test_coded_hours_a_low_score_follow_up_and_the_volunteers_record(gateway, admin):
    township = "凤埔乡"
    (volunteer_id,) = register_volunteers(gateway, admin, 1, township=township, skills=("repairs",))
    resident = bearer("resident", "e2e-fengpu-1")
    request_id = submit(gateway, resident, category="repairs", township=township, village="凤埔村").json()[
        "id"
    ]
    offered_to, task_id = current_offer(gateway, admin, request_id, 1)
    assert offered_to == volunteer_id
    volunteer = bearer("volunteer", volunteer_id)
    wait_in_inbox(gateway, volunteer, task_id)
    assert gateway.post(f"/api/v1/tasks/{task_id}/accept", volunteer).status_code == 200

    code = service_code(gateway, resident, request_id)
    assert gateway.get(f"/api/v1/requests/{request_id}", admin).json()["service_code"] is None
    assert "service_code" not in gateway.get(f"/api/v1/tasks/{task_id}", volunteer).json()
    wrong_code = "000000" if code != "000000" else "111111"
    wrong = gateway.post(f"/api/v1/tasks/{task_id}/check-in", volunteer, json={"code": wrong_code})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "code"
    for step in ("check-in", "check-out"):
        answer = gateway.post(f"/api/v1/tasks/{task_id}/{step}", volunteer, json={"code": code})
        assert answer.status_code == 200, answer.text
    wait_until(
        lambda: gateway.get(f"/api/v1/requests/{request_id}", resident).json()["status"] == "completed",
        what="completed",
    )

    # 回访: a score of 1 opens a follow-up that only 凤埔乡's staff (and the county) see.
    rated = wait_until(
        lambda: (
            (r := gateway.post("/api/v1/ratings", resident, json={"request_id": request_id, "score": 1})).ok
            and r
        ),
        what="the rating",
    )
    assert rated.status_code == 201
    staff = bearer("dispatcher", "e2e-fengpu-staff", township=township)
    elsewhere = bearer("dispatcher", "e2e-pinghu-staff", township="平湖镇")
    listed = wait_until(
        lambda: [f for f in gateway.get("/api/v1/followups", staff).json()["items"] if f["id"] == request_id],
        what="the follow-up",
    )
    # The sample may be drawn before or after the rating lands (one handler each), so order is free.
    assert "low_score" in listed[0]["reasons"] and listed[0]["volunteer_id"] == volunteer_id
    assert request_id not in [f["id"] for f in gateway.get("/api/v1/followups", elsewhere).json()["items"]]
    gauge = "civicloop_followups_open"
    ratings_worker = PROFILE["RATINGS_WORKER_METRICS_PORT"]
    # Other tests' follow-ups of the township may be open too (a sampled one, say): count this one.
    open_with_ours = wait_until(
        lambda: (n := total(scrape(ratings_worker), gauge, township=township)) >= 1 and n,
        timeout=60,
        what="the open gauge",
    )
    resolved = gateway.post(
        f"/api/v1/followups/{request_id}/resolve",
        staff,
        json={"outcome": "resolved", "note": "已回访，重新维修"},
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    trail = wait_until(
        lambda: gateway.get("/api/v1/audit", admin, params={"subject_id": request_id}).json()["items"],
        what="the follow-up's audit entry",
    )
    assert [(e["action"], e["actor"], e["reason"]) for e in trail] == [
        ("followup.resolved", "e2e-fengpu-staff", "已回访，重新维修")
    ]
    wait_until(
        lambda: total(scrape(ratings_worker), gauge, township=township) <= open_with_ours - 1,
        timeout=60,
        what="gauge down",
    )

    # Hours: check-out − check-in (a quarter hour at least), corrected by the township's staff.
    ledger = wait_until(
        lambda: (
            (h := gateway.get(f"/api/v1/volunteers/{volunteer_id}/hours", volunteer).json())["tasks"] == 1
            and h
        ),
        what="the ledger",
    )
    entry = ledger["entries"][0]
    assert entry["credited_hours"] == 0.25
    corrections = f"/api/v1/volunteers/{volunteer_id}/hours/{entry['id']}/corrections"
    assert gateway.post(corrections, elsewhere, json={"hours": 2, "reason": "x"}).status_code == 403
    fixed = gateway.post(corrections, staff, json={"hours": 2, "reason": "维修两小时，站长核实"})
    assert fixed.status_code == 201 and fixed.json()["corrected_by"] == "e2e-fengpu-staff"
    record = gateway.get(f"/api/v1/volunteers/{volunteer_id}/hours", volunteer).json()
    assert record["total_hours"] == 2 and record["entries"][0]["corrections"][0]["before"] == 0.25
    hours_trail = wait_until(
        lambda: gateway.get("/api/v1/audit", admin, params={"subject_id": volunteer_id}).json()["items"],
        what="the correction's audit entry",
    )
    assert [(e["action"], e["actor"], e["reason"], e["township"]) for e in hours_trail] == [
        ("hours.corrected", "e2e-fengpu-staff", "维修两小时，站长核实", township)
    ]
    assert (hours_trail[0]["details"]["before"], hours_trail[0]["details"]["after"]) == ("0.25", "2")

    exported = gateway.get(f"/api/v1/volunteers/{volunteer_id}/hours.csv", volunteer)
    assert exported.status_code == 200 and exported.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[1][1] == task_id and rows[-1] == ["total", "", "", "", "", "", "2", ""]
    pdf = gateway.get(f"/api/v1/volunteers/{volunteer_id}/certificate.pdf", admin)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Total hours: 2" in text and task_id in text


def test_a_pairing_visit_goes_through_the_loop_and_a_late_one_is_flagged_missed(gateway, admin):
    township = "卓洋乡"
    paired = register_volunteers(gateway, admin, 2, township=township, skills=("elder_care",))
    beneficiary = gateway.post(
        "/api/v1/beneficiaries",
        admin,
        json={
            "name": "林阿婆",
            "township": township,
            "village": "前洋村",
            "flags": ["living_alone", "bereaved_only_child", "elderly"],
            "resident_id": "e2e-linapo",
        },
    ).json()
    now = datetime.now(UTC)
    pairing = gateway.post(
        "/api/v1/pairings",
        admin,
        json={
            "beneficiary_id": beneficiary["id"],
            "volunteer_ids": paired,
            "every_days": 7,
            "first_visit_at": (now - timedelta(minutes=1)).isoformat(),
        },
    )
    assert pairing.status_code == 201 and pairing.json()["kind"] == "many_to_one"
    visits = f"/api/v1/visits?pairing_id={pairing.json()['id']}"
    visit = wait_until(
        lambda: [v for v in gateway.get(visits, admin).json()["items"] if v["request_id"]],
        timeout=40,
        what="the visit to fall due and become an order",
    )[0]
    request_id = visit["request_id"]
    elder = bearer("resident", "e2e-linapo")
    order = gateway.get(f"/api/v1/requests/{request_id}", elder).json()
    assert order["title"] == "结对帮扶上门探访" and order["township"] == township

    volunteer_id, task_id = current_offer(gateway, admin, request_id, 1)
    assert volunteer_id in paired
    volunteer = bearer("volunteer", volunteer_id)
    wait_in_inbox(gateway, volunteer, task_id)
    assert gateway.post(f"/api/v1/tasks/{task_id}/accept", volunteer).status_code == 200
    code = service_code(gateway, elder, request_id)
    for step in ("check-in", "check-out"):
        assert (
            gateway.post(f"/api/v1/tasks/{task_id}/{step}", volunteer, json={"code": code}).status_code == 200
        )
    done = wait_until(
        lambda: (
            (v := gateway.get(f"/api/v1/visits/{visit['id']}", volunteer).json())["status"] == "done" and v
        ),
        what="the visit done",
    )
    assert done["task_id"] == task_id and done["done_by"] == [volunteer_id]

    # A visit that fell due long ago and was never served is flagged missed after its grace.
    late = gateway.post(
        "/api/v1/pairings",
        admin,
        json={
            "beneficiary_id": beneficiary["id"],
            "volunteer_ids": paired[:1],
            "every_days": 30,
            "grace_hours": 1,
            "first_visit_at": (now - timedelta(hours=2)).isoformat(),
        },
    ).json()
    assert late["kind"] == "one_to_one"
    township_staff = bearer("dispatcher", "e2e-zhuoyang-staff", township=township)
    missed = wait_until(
        lambda: [
            v
            for v in gateway.get("/api/v1/visits?status=missed", township_staff).json()["items"]
            if v["pairing_id"] == late["id"]
        ],
        timeout=40,
        what="the missed visit",
    )
    assert missed[0]["missed_at"] is not None
    worker = PROFILE["VOLUNTEERS_WORKER_METRICS_PORT"]
    assert total(scrape(worker), "civicloop_pairing_visits_missed_total", township=township) >= 1
    assert total(scrape(worker), "civicloop_pairing_visits", township=township, status="missed") >= 1


def test_the_demo_organisation_matches_the_county(gateway, admin):
    """The demo's organisation, without its volunteers: they would take offers meant for other tests."""

    # Other tests of the suite add stations and teams by hand to the same databases: count what the
    # demo adds, not what is there.
    def organisation() -> tuple[dict, dict]:
        tree = gateway.get("/api/v1/organisation", admin).json()
        return tree, next((row for row in tree["institutes"] if row["township"] == "平湖镇"), None) or {}

    earlier, pinghu_earlier = organisation()
    load_demo(gateway.base_url, SECRET, volunteer_count=0, echo=lambda _line: None)
    tree, pinghu = organisation()
    totals, before_totals = tree["totals"], earlier["totals"]
    assert totals["institutes"] == 14 and len(tree["institutes"]) == 14
    assert totals["practice_stations"] - before_totals["practice_stations"] == 289
    assert totals["family_education_stations"] - before_totals["family_education_stations"] == 108
    added_teams = {kind: n - before_totals["teams"].get(kind, 0) for kind, n in totals["teams"].items()}
    assert added_teams == {"county_corps": 1, "standing": 8, "sub_team": 300, "lecture_brand": 29}
    assert sum(added_teams.values()) == 338
    village_stations_before = pinghu_earlier.get("stations", {}).get("village", 0)
    assert pinghu["name"] == "平湖镇新时代文明实践所"
    assert pinghu["stations"]["village"] - village_stations_before == 28

    stations, before = [], None
    while True:  # page through one township's village stations
        params = {
            "township": "平湖镇",
            "kind": "village",
            "limit": 10,
            **({"before": before} if before else {}),
        }
        page = gateway.get("/api/v1/stations", admin, params=params).json()
        stations += page["items"]
        before = page["next_before"]
        if not before:
            break
    village_stations = pinghu["stations"]["village"]
    assert len(stations) == village_stations and len({s["id"] for s in stations}) == village_stations
    standing = gateway.get("/api/v1/teams", admin, params={"kind": "standing", "limit": 100}).json()["items"]
    assert len(standing) == totals["teams"]["standing"] >= 8
    sub_team = gateway.get("/api/v1/teams", admin, params={"kind": "sub_team", "township": "凤埔乡"}).json()
    team = sub_team["items"][0]
    assert team["parent_id"] in {t["id"] for t in standing}

    # An inactive volunteer (dispatch offers them nothing) becomes the sub-team's leader, so a member.
    body = {"name": "黄建华", "township": "凤埔乡", "skills": ["repairs"], "active": False}
    leader = gateway.post("/api/v1/volunteers", admin, json=body).json()["id"]
    led = gateway.call("PATCH", f"/api/v1/teams/{team['id']}", admin, json={"leader_id": leader})
    assert led.status_code == 200 and leader in led.json()["member_ids"]
    members = gateway.get(f"/api/v1/teams/{team['id']}/members", admin).json()["items"]
    assert [m["id"] for m in members] == [leader]
    assert gateway.get(f"/api/v1/volunteers/{leader}", admin).json()["team_ids"] == [team["id"]]
    refused = gateway.call(
        "PATCH", f"/api/v1/teams/{team['id']}", bearer("volunteer", leader), json={"name": "x"}
    )
    assert refused.status_code == 403
