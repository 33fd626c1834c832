"""Organisation, hours and pairing in the volunteers service, against the real broker and database."""

from __future__ import annotations

import csv
import io
import threading
import time
from datetime import timedelta

import pypdf

from services.common.ids import utcnow
from services.volunteers.hours.models import HoursEntry
from services.volunteers.metrics import VISITS_MISSED
from services.volunteers.pairing import usecases as pairing
from services.volunteers.pairing.models import PairingDocument, VisitDocument
from services.volunteers.tasks.models import TaskDocument
from tests import factories
from tests.support import bearer, event, publish, wait_until

SERVICE = "volunteers"
ADMIN = bearer("admin", "admin-it")
PINGHU_STAFF = bearer("dispatcher", "staff-pinghu", township="平湖镇")
OTHER_STAFF = bearer("dispatcher", "staff-chengdong", township="城东街道")


def register(harness, name="林志明", township="平湖镇"):
    body = {"name": name, "township": township, "skills": ["elder_care"], "phone": "13900002222"}
    response = harness.call("POST", "/api/v1/volunteers", ADMIN, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def team_tree(harness):
    corps = harness.call("POST", "/api/v1/teams", ADMIN, json={"name": "总队", "kind": "county_corps"})
    standing = harness.call(
        "POST",
        "/api/v1/teams",
        ADMIN,
        json={"name": "助老助残服务队", "kind": "standing", "parent_id": corps.get_json()["id"]},
    )
    sub = harness.call(
        "POST",
        "/api/v1/teams",
        ADMIN,
        json={
            "name": "平湖镇助老分队",
            "kind": "sub_team",
            "parent_id": standing.get_json()["id"],
            "townships": ["平湖镇"],
        },
    )
    return corps.get_json()["id"], standing.get_json()["id"], sub.get_json()["id"]


def test_the_organisation_tree_institutes_stations_and_team_members(harness):
    institutes = harness.call("GET", "/api/v1/organisation/institutes", bearer("resident", "r")).get_json()
    assert len(institutes["items"]) == 14 and institutes["items"][2]["name"] == "平湖镇新时代文明实践所"
    put = harness.call(
        "PUT",
        "/api/v1/organisation/institutes/平湖镇",
        ADMIN,
        json={"leader_name": "黄所长", "phone": "0593-3871234"},
    )
    assert put.status_code == 200 and put.get_json()["leader_name"] == "黄所长"
    unknown = harness.call("PUT", "/api/v1/organisation/institutes/火星镇", ADMIN, json={})
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"] == "township"
    assert (
        harness.call("PUT", "/api/v1/organisation/institutes/平湖镇", PINGHU_STAFF, json={}).status_code
        == 403
    )

    for code, kind in (("IT-O1", "village"), ("IT-O2", "village"), ("IT-O3", "family_education")):
        body = {"code": code, "name": f"站{code}", "township": "平湖镇", "kind": kind}
        assert harness.call("POST", "/api/v1/stations", ADMIN, json=body).status_code == 201
    corps, standing, sub = team_tree(harness)
    leader, member = register(harness), register(harness, name="陈小红")

    added = harness.call("POST", f"/api/v1/teams/{sub}/members", ADMIN, json={"volunteer_id": member})
    assert added.status_code == 201 and added.get_json()["members"] == 1
    again = harness.call("POST", f"/api/v1/teams/{sub}/members", ADMIN, json={"volunteer_id": member})
    assert again.get_json()["members"] == 1
    led = harness.call(
        "PATCH", f"/api/v1/teams/{sub}", ADMIN, json={"leader_id": leader, "categories": ["elder_care"]}
    )
    assert led.status_code == 200 and set(led.get_json()["member_ids"]) == {leader, member}
    wait_until(
        lambda: [
            e for e in harness.bus.of_type("team.updated", team_id=sub) if e.data["leader_id"] == leader
        ],
        what="the team's new leader announced",
    )
    profile = harness.bus.wait_for("volunteer.updated", volunteer_id=leader)
    assert profile.data["team_ids"] == [sub]
    members = harness.call("GET", f"/api/v1/teams/{sub}/members", bearer("resident", "r")).get_json()["items"]
    assert {m["id"] for m in members} == {leader, member} and "phone" not in members[0]

    cycle = harness.call("PATCH", f"/api/v1/teams/{standing}", ADMIN, json={"parent_id": sub})
    assert cycle.status_code == 422 and cycle.get_json()["errors"][0]["field"] == "parent_id"
    children = harness.call("GET", f"/api/v1/teams/{corps}/sub-teams", ADMIN).get_json()["items"]
    assert [t["id"] for t in children] == [standing]

    removed = harness.call("DELETE", f"/api/v1/teams/{sub}/members/{member}", ADMIN)
    assert removed.status_code == 200 and removed.get_json()["member_ids"] == [leader]

    tree = harness.call("GET", "/api/v1/organisation", bearer("volunteer", leader)).get_json()
    assert tree["centre"]["name"] == "古田县新时代文明实践中心" and tree["totals"]["institutes"] == 14
    pinghu = next(row for row in tree["institutes"] if row["township"] == "平湖镇")
    assert pinghu["stations"]["village"] >= 2 and pinghu["stations"]["family_education"] >= 1
    assert pinghu["leader_name"] == "黄所长" and pinghu["teams"] >= 1 and pinghu["volunteers"] >= 2
    assert tree["totals"]["teams"]["standing"] >= 1


def test_a_station_is_one_identity_for_volunteers_teams_and_the_other_stages(harness):
    """Issue 15 #9: volunteers and teams name their station by id; each station change is announced."""
    body = {"code": "IT-XY1", "name": "杉洋镇下洋村新时代文明实践站", "township": "杉洋镇", "kind": "village"}
    created = harness.call("POST", "/api/v1/stations", ADMIN, json=body)
    assert created.status_code == 201 and created.get_json()["village"] == "下洋村"
    station = created.get_json()["id"]
    announced = harness.bus.wait_for("station.updated", station_id=station)
    assert (announced.data["village"], announced.data["station_version"]) == ("下洋村", 1)

    volunteer = {"name": "游德福", "township": "杉洋镇", "skills": ["repairs"], "station_id": station}
    registered = harness.call("POST", "/api/v1/volunteers", ADMIN, json=volunteer)
    assert registered.status_code == 201, registered.get_json()
    assert registered.get_json()["station"] == "杉洋镇下洋村新时代文明实践站"
    profile = harness.bus.wait_for("volunteer.registered", volunteer_id=registered.get_json()["id"])
    assert profile.data["station_id"] == station

    for wrong, why in (({"station_id": "no-such-station"}, "unknown"), ({"township": "平湖镇"}, "elsewhere")):
        refused = harness.call("POST", "/api/v1/volunteers", ADMIN, json={**volunteer, **wrong})
        assert refused.status_code == 422, why
        assert refused.get_json()["errors"][0]["field"] == "station_id", why
    moved = harness.call(
        "PATCH", f"/api/v1/volunteers/{registered.get_json()['id']}", ADMIN, json={"township": "平湖镇"}
    )
    assert moved.status_code == 422 and moved.get_json()["errors"][0]["field"] == "station_id"

    team = {
        "name": "下洋村志愿服务队",
        "kind": "county_corps",
        "townships": ["杉洋镇"],
        "station_id": station,
    }
    made = harness.call("POST", "/api/v1/teams", ADMIN, json=team)
    assert made.status_code == 201 and made.get_json()["station_id"] == station
    assert harness.bus.wait_for("team.updated", team_id=made.get_json()["id"]).data["station_id"] == station
    elsewhere = harness.call("POST", "/api/v1/teams", ADMIN, json={**team, "townships": ["平湖镇"]})
    assert elsewhere.status_code == 422 and elsewhere.get_json()["errors"][0]["field"] == "station_id"

    renamed = harness.call(
        "PATCH", f"/api/v1/stations/{station}", ADMIN, json={"name": "杉洋镇上洋村新时代文明实践站"}
    )
    assert renamed.get_json()["village"] == "上洋村"
    again = harness.bus.wait_for("station.updated", station_id=station, station_version=2)
    assert again.data["village"] == "上洋村"
    nulled = harness.call(
        "PATCH", f"/api/v1/stations/{station}", ADMIN, json={"name": None, "village": "新村"}
    )
    assert nulled.status_code == 422 and nulled.get_json()["errors"][0]["field"] == "name"
    assert harness.call("GET", f"/api/v1/stations/{station}", ADMIN).get_json()["village"] == "上洋村"


def accept(harness, volunteer_id, **offer):
    offered = factories.task_offered(volunteer_id=volunteer_id, township="平湖镇", **offer)
    publish(harness.settings.amqp_url, event(offered))
    wait_until(lambda: TaskDocument.objects(id=offered.task_id).first(), what="the task in the inbox")
    me = bearer("volunteer", volunteer_id)
    accepted = harness.call("POST", f"/api/v1/tasks/{offered.task_id}/accept", me)
    assert accepted.status_code == 200 and "service_code" not in accepted.get_json()
    code = harness.bus.wait_for("task.accepted", task_id=offered.task_id).data["service_code"]
    assert len(code) == 6 and code.isdigit()
    return offered.task_id, code, me


def test_check_in_and_out_need_the_residents_code_and_credit_the_whole_team(harness):
    _corps, _standing, sub = team_tree(harness)
    leader, companion, outsider = register(harness), register(harness, "王国强"), register(harness, "外人")
    harness.call("PATCH", f"/api/v1/teams/{sub}", ADMIN, json={"leader_id": leader})
    harness.call("POST", f"/api/v1/teams/{sub}/members", ADMIN, json={"volunteer_id": companion})
    task_id, code, me = accept(harness, leader, team_id=sub)

    wrong_code = "000000" if code != "000000" else "111111"
    wrong = harness.call("POST", f"/api/v1/tasks/{task_id}/check-in", me, json={"code": wrong_code})
    assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["field"] == "code"
    stored = TaskDocument._get_collection().find_one({"_id": task_id})
    assert stored["status"] == "accepted" and stored["code_attempts"] == 1
    assert (
        harness.call("POST", f"/api/v1/tasks/{task_id}/check-in", me, json={"code": code}).status_code == 200
    )

    outside = harness.call(
        "POST", f"/api/v1/tasks/{task_id}/check-out", me, json={"code": code, "participant_ids": [outsider]}
    )
    assert outside.status_code == 422
    out = harness.call(
        "POST", f"/api/v1/tasks/{task_id}/check-out", me, json={"code": code, "participant_ids": [companion]}
    )
    assert out.status_code == 200, out.get_json()
    completed = harness.bus.wait_for("task.completed", task_id=task_id)
    assert {p["volunteer_id"] for p in completed.data["participants"]} == {leader, companion}
    for volunteer_id in (leader, companion):
        wait_until(
            lambda v=volunteer_id: HoursEntry.objects(volunteer_id=v, task_id=task_id).count() == 1,
            what="every participant credited",
        )
    ledger = harness.call(
        "GET", f"/api/v1/volunteers/{companion}/hours", bearer("volunteer", companion)
    ).get_json()
    assert ledger["total_hours"] == 0.25 and ledger["tasks"] == 1


def test_wrong_codes_are_limited(harness):
    volunteer = register(harness)
    task_id, code, me = accept(harness, volunteer)
    wrong = "000000" if code != "000000" else "111111"
    answers = [
        harness.call("POST", f"/api/v1/tasks/{task_id}/check-in", me, json={"code": wrong}) for _ in range(5)
    ]
    assert [a.status_code for a in answers] == [422] * 5
    problem = answers[0].get_json()
    assert problem["errors"][0]["field"] == "code" and answers[0].mimetype == "application/problem+json"
    assert "4 attempts left" in problem["detail"]
    locked = harness.call("POST", f"/api/v1/tasks/{task_id}/check-in", me, json={"code": code})
    assert locked.status_code == 409 and locked.get_json()["errors"][0]["field"] == "code"
    assert TaskDocument._get_collection().find_one({"_id": task_id})["status"] == "accepted"


def test_staff_corrections_are_audited_and_records_export(harness):
    volunteer = register(harness, name="郑春燕")
    me = bearer("volunteer", volunteer)
    task_id, code, _ = accept(harness, volunteer)
    for step in ("check-in", "check-out"):
        assert (
            harness.call("POST", f"/api/v1/tasks/{task_id}/{step}", me, json={"code": code}).status_code
            == 200
        )
    wait_until(lambda: HoursEntry.objects(volunteer_id=volunteer).count() == 1, what="the credit")
    # A step out of order is a 409 whatever the code: it does not count as a wrong guess.
    late = harness.call("POST", f"/api/v1/tasks/{task_id}/check-in", me, json={"code": "000000"})
    assert late.status_code == 409
    assert TaskDocument._get_collection().find_one({"_id": task_id})["code_attempts"] == 0
    entry_id = f"{task_id}:{volunteer}"
    path = f"/api/v1/volunteers/{volunteer}/hours/{entry_id}/corrections"

    assert harness.call("POST", path, me, json={"hours": 8, "reason": "我自己改"}).status_code == 403
    assert harness.call("POST", path, OTHER_STAFF, json={"hours": 2, "reason": "x"}).status_code == 403
    no_reason = harness.call("POST", path, PINGHU_STAFF, json={"hours": 2})
    assert no_reason.status_code == 422 and no_reason.get_json()["errors"][0]["field"] == "reason"
    fixed = harness.call(
        "POST", path, PINGHU_STAFF, json={"hours": 2, "reason": "忘记签退，站长核实为两小时"}
    )
    assert fixed.status_code == 201, fixed.get_json()
    assert (fixed.get_json()["before"], fixed.get_json()["after"]) == (0.25, 2)
    second = harness.call("POST", path, ADMIN, json={"hours": 1.5, "reason": "复核"})
    assert second.get_json()["before"] == 2

    # Each correction is in the audit trail (who, what, when, why), written with its ledger line;
    # the refused attempts above (403, 422) left none.
    def trail():
        return harness.bus.of_type("audit.recorded", action="hours.corrected", subject_id=volunteer)

    entries = wait_until(lambda: len(trail()) == 2 and trail(), what="the corrections' audit entries")
    by_actor = {e.data["actor"]: e for e in entries}
    assert set(by_actor) == {"staff-pinghu", "admin-it"}
    first = by_actor["staff-pinghu"].data
    assert (first["actor_role"], first["subject_type"], first["township"]) == (
        "dispatcher",
        "volunteer",
        "平湖镇",
    )
    assert first["reason"] == "忘记签退，站长核实为两小时" and first["at"]
    assert first["details"] == {
        "entry_id": entry_id,
        "correction_id": fixed.get_json()["id"],
        "task_id": task_id,
        "before": "0.25",
        "after": "2",
    }
    assert by_actor["admin-it"].data["details"]["before"] == "2"
    assert by_actor["admin-it"].data["details"]["after"] == "1.5"
    assert by_actor["staff-pinghu"].correlation_id == HoursEntry.objects(id=entry_id).first().request_id
    wait_until(
        lambda: (
            HoursEntry._get_collection().count_documents({"volunteer_id": volunteer, "outbox_pending": True})
            == 0
        ),
        what="the outbox relayed",
    )

    ledger = harness.call("GET", f"/api/v1/volunteers/{volunteer}/hours", me).get_json()
    (entry,) = ledger["entries"]
    assert ledger["total_hours"] == 1.5 and entry["credited_hours"] == 0.25 and entry["hours"] == 1.5
    assert [(c["corrected_by"], c["before"], c["after"]) for c in entry["corrections"]] == [
        ("staff-pinghu", 0.25, 2),
        ("admin-it", 2, 1.5),
    ]
    # Append-only: the original credit is untouched; corrections are lines of their own.
    assert HoursEntry._get_collection().find_one({"_id": entry_id})["hours"] == 0.25
    assert HoursEntry._get_collection().count_documents({"volunteer_id": volunteer}) == 3

    exported = harness.call("GET", f"/api/v1/volunteers/{volunteer}/hours.csv", me)
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["date", "task_id", "request_id"] and rows[1][1] == task_id
    assert rows[-1][0] == "total" and rows[-1][6] == "1.5"
    assert (
        harness.call("GET", f"/api/v1/volunteers/{volunteer}/hours.csv", bearer("volunteer", "x")).status_code
        == 404
    )

    pdf = harness.call("GET", f"/api/v1/volunteers/{volunteer}/certificate.pdf", me)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.get_data())).pages)
    assert "1.5" in text and task_id in text
    assert "郑春燕" in text or volunteer in text  # the name when a CJK font is installed, else the id


def test_a_visit_falls_due_once_goes_to_the_loop_and_is_done_or_missed(harness):
    volunteers = [register(harness, "结对甲", "卓洋乡"), register(harness, "结对乙", "卓洋乡")]
    beneficiary = harness.call(
        "POST",
        "/api/v1/beneficiaries",
        ADMIN,
        json={
            "name": "林阿婆",
            "township": "卓洋乡",
            "village": "前洋村",
            "flags": ["living_alone", "bereaved_only_child", "elderly"],
            "resident_id": "resident-linapo",
        },
    )
    assert beneficiary.status_code == 201, beneficiary.get_json()
    bad_flag = harness.call(
        "POST",
        "/api/v1/beneficiaries",
        ADMIN,
        json={"name": "x", "township": "卓洋乡", "village": "y", "flags": ["rich"]},
    )
    assert bad_flag.status_code == 422 and bad_flag.get_json()["errors"][0]["field"].startswith("flags")
    first_due = utcnow() - timedelta(minutes=1)
    created = harness.call(
        "POST",
        "/api/v1/pairings",
        ADMIN,
        json={
            "beneficiary_id": beneficiary.get_json()["id"],
            "volunteer_ids": volunteers,
            "every_days": 7,
            "grace_hours": 24,
            "first_visit_at": first_due.isoformat(),
        },
    )
    assert created.status_code == 201 and created.get_json()["kind"] == "many_to_one"
    pairing_id = created.get_json()["id"]

    # Two workers sweep at once, then one again: the visit is made and announced once.
    sweepers = [threading.Thread(target=pairing.sweep) for _ in range(2)]
    for sweeper in sweepers:
        sweeper.start()
    for sweeper in sweepers:
        sweeper.join()
    pairing.sweep()
    due = harness.bus.wait_for("pairing.visit_due", pairing_id=pairing_id)
    assert set(due.data["volunteer_ids"]) == set(volunteers) and due.data["resident_id"] == "resident-linapo"
    visit_id = due.data["visit_id"]
    # A restart that lost the schedule's move (as if the process died between the two writes):
    # the visit is not made again (its id is taken), only the schedule moves.
    PairingDocument._get_collection().update_one(
        {"_id": pairing_id}, {"$set": {"next_due_at": first_due, "visits_made": 0}}
    )
    pairing.sweep()
    wait_until(lambda: harness.bus.of_type("pairing.visit_due", pairing_id=pairing_id), what="drain")
    time.sleep(1)  # the relay polls every 50 ms: a duplicate would be on the bus by now
    assert len(harness.bus.of_type("pairing.visit_due", pairing_id=pairing_id)) == 1
    stored = PairingDocument._get_collection().find_one({"_id": pairing_id})
    assert stored["visits_made"] == 1 and stored["next_due_at"] > utcnow() + timedelta(days=6)

    submitted = factories.request_submitted(
        source="pairing", source_ref=visit_id, preassigned_volunteer_ids=volunteers
    )
    done = factories.task_completed(request_id=submitted.request_id, volunteer_id=volunteers[0])
    publish(harness.settings.amqp_url, event(done))  # out of order: completion first
    publish(harness.settings.amqp_url, event(submitted))
    wait_until(
        lambda: VisitDocument._get_collection().find_one({"_id": visit_id})["status"] == "done",
        what="visit done",
    )
    seen = harness.call("GET", f"/api/v1/visits/{visit_id}", bearer("volunteer", volunteers[1])).get_json()
    assert seen["request_id"] == submitted.request_id and seen["done_by"] == [volunteers[0]]

    # The next visit is never served: after its grace it is flagged missed, once.
    PairingDocument._get_collection().update_one(
        {"_id": pairing_id}, {"$set": {"next_due_at": utcnow() - timedelta(hours=30)}}
    )
    before = VISITS_MISSED.labels("卓洋乡")._value.get()
    # (the harness's worker sweeps on its own timer too: count outcomes, not whose sweep it was)
    pairing.sweep()
    pairing.sweep()
    assert VISITS_MISSED.labels("卓洋乡")._value.get() == before + 1
    missed = harness.call(
        "GET", "/api/v1/visits?status=missed", bearer("dispatcher", "d", township="卓洋乡")
    ).get_json()
    assert [v["pairing_id"] for v in missed["items"]] == [pairing_id]
    assert harness.call("GET", "/api/v1/visits?township=卓洋乡", OTHER_STAFF).status_code == 403
    own = harness.call("GET", "/api/v1/pairings", bearer("volunteer", volunteers[0])).get_json()["items"]
    assert [p["id"] for p in own] == [pairing_id]


def test_the_routes_no_other_test_reaches_answer_as_their_documents_say(harness):
    """Each answer here is checked against the OpenAPI document (RESPONSE_CHECKED): a mismatch is a 500."""
    volunteer = register(harness, name="覆盖测试", township="吉巷乡")
    me = bearer("volunteer", volunteer)
    corps = harness.call(
        "POST", "/api/v1/teams", ADMIN, json={"name": "总队", "kind": "county_corps"}
    ).get_json()
    station = harness.call(
        "POST",
        "/api/v1/stations",
        ADMIN,
        json={"code": "IT-R1", "name": "站", "township": "吉巷乡", "kind": "village"},
    ).get_json()
    beneficiary = harness.call(
        "POST",
        "/api/v1/beneficiaries",
        ADMIN,
        json={"name": "陈阿公", "township": "吉巷乡", "village": "吉巷村", "phone": "13900003333"},
    ).get_json()
    pairing = harness.call(
        "POST",
        "/api/v1/pairings",
        ADMIN,
        json={"beneficiary_id": beneficiary["id"], "volunteer_ids": [volunteer]},
    ).get_json()
    task_id, _code, _ = accept(harness, volunteer)
    reads = [
        ("GET", "/api/v1/volunteers?township=吉巷乡", ADMIN),
        ("GET", "/api/v1/teams?kind=county_corps", me),
        ("GET", f"/api/v1/teams/{corps['id']}", me),
        ("GET", f"/api/v1/stations/{station['id']}", me),
        ("GET", "/api/v1/beneficiaries?township=吉巷乡", ADMIN),
        ("GET", f"/api/v1/pairings/{pairing['id']}", me),
        ("GET", f"/api/v1/tasks/{task_id}", me),
        ("GET", f"/api/v1/tasks?volunteer_id={volunteer}", ADMIN),
        ("GET", "/api/v1/tasks/team?status=offered", me),
        ("GET", "/api/v1/pool", ADMIN),
        ("GET", "/api/v1/organisation/institutes?township=吉巷乡", me),
    ]
    for method, path, who in reads:
        answer = harness.call(method, path, who)
        assert answer.status_code == 200, (path, answer.get_json())
    moved = harness.call("PATCH", f"/api/v1/stations/{station['id']}", ADMIN, json={"kind": "community"})
    assert moved.status_code == 200 and moved.get_json()["kind"] == "community"
    # Someone neither covering the township nor holding the beneficiary's account learns nothing.
    own = harness.call("GET", f"/api/v1/beneficiaries/{beneficiary['id']}", bearer("resident", "nobody"))
    assert own.status_code == 404
    assert harness.call("GET", f"/api/v1/beneficiaries/{beneficiary['id']}", ADMIN).get_json()["phone"]
    ended = harness.call("POST", f"/api/v1/pairings/{pairing['id']}/end", ADMIN)
    assert ended.status_code == 200 and ended.get_json()["active"] is False
    again = harness.call("POST", f"/api/v1/pairings/{pairing['id']}/end", ADMIN)
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    harness.call("PATCH", f"/api/v1/teams/{corps['id']}", ADMIN, json={"active": False})
    closed = harness.call(
        "POST", f"/api/v1/teams/{corps['id']}/members", ADMIN, json={"volunteer_id": volunteer}
    )
    assert closed.status_code == 409 and closed.get_json()["errors"][0]["field"] == "team_id"
    unknown = harness.call("GET", "/api/v1/pool", bearer("volunteer", "never-registered"))
    assert unknown.status_code == 404 and unknown.mimetype == "application/problem+json"
