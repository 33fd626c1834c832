"""Pure rules of the practice: catalogue deadlines, patrol tiers, the spoken timeline, Open311 mapping."""

from __future__ import annotations

from datetime import timedelta

import pytest
import xmltodict
from hypothesis import given, settings
from hypothesis import strategies as st

from services.common.domain import DomainError, StateConflict
from services.common.schemas import URGENCIES
from services.requests.catalog.domain import CATEGORIES
from services.requests.lifecycle import domain as lifecycle
from services.requests.open311 import domain as open311
from services.requests.open311 import schemas as open311_views
from services.requests.orders import domain
from services.requests.orders.domain import mask_name
from services.requests.orders.timeline import Viewer, timeline_view
from services.requests.patrols import domain as patrols
from tests import factories

NOW = factories.NOW


def test_every_category_has_names_skills_and_deadlines_that_shrink_with_urgency():
    assert len(CATEGORIES) == 10
    for category in CATEGORIES.values():
        assert category.name_zh and category.name_en and category.description_en
        times = [category.deadlines(urgency) for urgency in URGENCIES]
        responds = [t.respond_within_minutes for t in times]
        completes = [t.complete_within_hours for t in times]
        assert responds == sorted(responds, reverse=True) and responds[-1] >= 15
        assert completes == sorted(completes, reverse=True) and completes[-1] >= 2
    assert CATEGORIES["legal_aid"].needs_review and not CATEGORIES["elder_care"].needs_review
    respond_by, complete_by = CATEGORIES["elder_care"].deadlines("urgent").due(NOW)
    assert respond_by == NOW + timedelta(minutes=15) and complete_by == NOW + timedelta(hours=6)


def finding(**overrides):
    values = {
        "steward_id": "st-1",
        "township": "城西街道",
        "village": "西门社区",
        "description": "井盖松动",
        "tier": patrols.Tier.RESOLVED_ON_SITE,
        "resolution_note": "当场复位",
    }
    values.update(overrides)
    return patrols.Finding(**values)


def test_a_report_resolved_on_site_is_closed_at_once_and_needs_a_note():
    report = patrols.report(finding(), report_id="p1", request_id="r1", now=NOW)
    assert report.status == "closed" and report.closed_at == NOW and report.request_id is None
    with pytest.raises(DomainError) as refused:
        patrols.report(finding(resolution_note=None), report_id="p2", request_id="r2", now=NOW)
    assert refused.value.field == "resolution_note"


def test_a_community_report_names_its_order_and_becomes_a_patrol_submission():
    report = patrols.report(
        finding(tier=patrols.Tier.REPORTED_TO_COMMUNITY, category="repairs", latitude=26.5, longitude=118.7),
        report_id="p1",
        request_id="r1",
        now=NOW,
    )
    assert report.status == "in_loop" and report.request_id == "r1"
    order = patrols.order_for(report)
    # The village's station is found by the use case from the stations it knows (by id, ADR 0091).
    assert (order.source, order.source_ref, order.village, order.station_id, order.category) == (
        "patrol",
        "p1",
        "西门社区",
        None,
        "repairs",
    )
    assert order.resident_id == "st-1" and order.latitude == 26.5
    with pytest.raises(DomainError):
        patrols.report(finding(latitude=26.5), report_id="p3", request_id="r3", now=NOW)


def test_a_joint_consultation_needs_parties_and_a_meeting_before_it_closes():
    with pytest.raises(DomainError) as refused:
        patrols.report(
            finding(tier=patrols.Tier.JOINT_CONSULTATION, parties=("社区",)),
            report_id="p",
            request_id="r",
            now=NOW,
        )
    assert refused.value.field == "parties"
    case = patrols.report(
        finding(tier=patrols.Tier.JOINT_CONSULTATION, parties=("社区", "物业", "社区")),
        report_id="p",
        request_id="r",
        now=NOW,
    )
    assert case.status == "consulting" and case.parties == ["社区", "物业"]
    with pytest.raises(patrols.NoMeetingYet):
        patrols.close(case, note="ok", by="st-1", now=NOW)
    patrols.add_meeting(case, patrols.Meeting(NOW, ["社区", "物业"], "商量停车位", "st-1", NOW, "划线"))
    patrols.close(case, note="已划线", by="st-1", now=NOW)
    assert case.status == "closed" and case.resolution_note == "已划线"
    with pytest.raises(StateConflict):
        patrols.add_meeting(case, patrols.Meeting(NOW, ["社区"], "again", "st-1", NOW))
    on_site = patrols.report(finding(), report_id="q", request_id="r", now=NOW)
    with pytest.raises(StateConflict):
        patrols.add_meeting(on_site, patrols.Meeting(NOW, ["社区"], "x", "st-1", NOW))


def narrate(request, viewer):
    """The timeline as `GET /api/v1/requests/{id}` sends it to this viewer."""
    return [step.model_dump(mode="json") for step in timeline_view(request, viewer)]


def submitted(**overrides):
    values = {
        "resident_id": "res-1",
        "category": "elder_care",
        "title": "陪老人看病",
        "description": "周三上午",
        "township": "平湖镇",
        "village": "平湖村",
    }
    values.update(overrides)
    request, _ = domain.submit(
        domain.Submission(**values),
        request_id="req-1",
        code="GT-1",
        event_id="e0",
        now=NOW,
        masked_phone=None,
    )
    return request


def test_the_timeline_speaks_to_the_owner_and_shows_staff_who_acted_whatever_the_arrival_order():
    ids = {"request_id": "req-1", "task_id": "t1", "volunteer_id": "vol-ABCD1234"}
    steps = [
        ("task.completed", factories.task_completed(**ids, hours=2.5), 3),
        ("task.offered", factories.task_offered(**ids), 1),
        ("task.accepted", factories.task_accepted(**ids), 2),
    ]
    in_order = submitted()
    shuffled = submitted()
    for kind, data, minute in sorted(steps, key=lambda s: s[2]):
        lifecycle.record(
            in_order, kind, data, event_id=kind, occurred_at=NOW + timedelta(minutes=minute), now=NOW
        )
    for kind, data, minute in steps:
        lifecycle.record(
            shuffled, kind, data, event_id=kind, occurred_at=NOW + timedelta(minutes=minute), now=NOW
        )
    owner = Viewer("res-1")
    assert narrate(in_order, owner) == narrate(shuffled, owner)

    told = narrate(shuffled, owner)
    assert [step["kind"] for step in told] == [
        "request.submitted",
        "task.offered",
        "task.accepted",
        "task.completed",
    ]
    assert told[0]["said"] == {"zh": "您提交了需求「陪老人看病」", "en": "You asked for “陪老人看病”"}
    assert told[1]["text"] == {"zh": "已派单给志愿者", "en": "Offered to a volunteer"}  # the stored record
    assert told[1]["said"] == {
        "zh": "已派给志愿者…1234，等对方确认",
        "en": "Offered to volunteer …1234; waiting for them to confirm",
    }
    assert told[1]["who"] == {
        "role": "dispatch",
        "label": {"zh": "派单系统", "en": "the dispatch service"},
        "id": None,
    }
    assert told[2]["who"]["label"] == {"zh": "志愿者…1234", "en": "volunteer …1234"}
    assert told[2]["who"]["id"] is None
    assert told[3]["said"]["zh"] == "志愿者…1234完成了服务，用时2.5小时，请您评价"
    assert [step["status_after"] for step in told] == ["submitted", "dispatched", "accepted", "completed"]
    assert told[3]["status_text"] == {"zh": "已完成，待评价", "en": "Completed, waiting for your rating"}
    assert told[0]["when"]["zh"] == "11月29日 16:00"  # 08:00 UTC is 16:00 in China

    staff = narrate(shuffled, Viewer("disp-1", is_staff=True))
    assert staff[0]["said"]["en"] == "The resident asked for “陪老人看病”"
    assert staff[2]["who"] == {
        "role": "volunteer",
        "label": {"zh": "志愿者", "en": "volunteer"},
        "id": "vol-ABCD1234",
    }
    assert not staff[3]["said"]["zh"].endswith("请您评价")
    assert staff[1]["said"]["en"] == "Offered to volunteer vol-ABCD1234; waiting for them to confirm"
    assert staff[1]["who"]["id"] is None


def test_a_wish_and_a_patrol_name_their_source_and_an_unknown_step_keeps_its_stored_text():
    wish = submitted(source="wish", resident_id="staff-1", source_details={"beneficiary": {"name": "张秀英"}})
    assert narrate(wish, Viewer("vol-1"))[0]["said"]["zh"] == "工作人员为张*英发布了微心愿「陪老人看病」"
    wish.timeline.append(
        domain.TimelineEntry("x", "request.reviewed.v9", NOW, "dispatcher", "新步骤", "A new step")
    )
    assert narrate(wish, Viewer("staff-1"))[-1]["said"] == {"zh": "新步骤", "en": "A new step"}
    assert mask_name("李明") == "李*" and mask_name("欧阳小明") == "欧**明"


def test_open311_post_needs_a_service_a_location_and_the_township_and_village_attributes():
    form = {
        "service_code": "repairs",
        "lat": "26.58",
        "long": "118.74",
        "attribute[township]": "平湖镇",
        "attribute[village]": "平湖村",
        "description": "水管漏水",
        "email": "Li@Example.cn",
        "first_name": "Li",
    }
    posted = open311.parse_post(form, token="tok-1")
    assert posted.submission.source == "open311" and posted.submission.source_ref == "tok-1"
    assert posted.submission.resident_id == "open311:li@example.cn"
    assert posted.submission.latitude == 26.58 and posted.submission.township == "平湖镇"
    assert posted.submission.source_details["first_name"] == "Li"
    for broken, words in (
        ({"service_code": "nope"}, "service_code"),
        ({"lat": "", "long": ""}, "location"),
        ({"lat": "100"}, "lat"),
        ({"attribute[township]": "火星"}, "attribute[township]"),
        ({"attribute[village]": ""}, "attribute[village]"),
        ({"email": "not-mail"}, "email"),
    ):
        with pytest.raises(open311.Open311Error) as refused:
            open311.parse_post({**form, **broken}, token="t")
        assert refused.value.status == 400 and words in refused.value.description


def test_open311_search_defaults_to_ninety_days_and_refuses_longer_or_unknown_filters():
    search = open311.parse_search({}, NOW)
    assert search.end - search.start == timedelta(days=90) and search.end == NOW
    closed = open311.parse_search({"status": "closed", "service_code": "repairs,culture"}, NOW)
    assert "closed" in closed.statuses and "accepted" not in closed.statuses
    assert closed.service_codes == ("repairs", "culture")
    assert open311.parse_search({"service_request_id": "a,b", "status": "bogus"}, NOW).ids == ("a", "b")
    for args in (
        {"status": "pending"},
        {"service_code": "nope"},
        {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
        {"start_date": "yesterday"},
        {"start_date": "2026-01-01T00:00:00"},
    ):
        with pytest.raises(open311.Open311Error):
            open311.parse_search(args, NOW)


def test_open311_views_map_statuses_and_keep_residents_words_private():
    private = submitted()
    view = open311_views.request_view(private).model_dump()
    assert view["status"] == "open" and view["status_notes"] == "Submitted / 已提交"
    assert view["description"] == "助老服务 Elder care" and view["address"] == "平湖镇平湖村"
    domain.cancel(private, by="resident", reason="不需要了", event_id="c", now=NOW)
    assert open311.status_of(private) == ("closed", "Cancelled / 已取消: 不需要了")
    public = submitted(source="open311", description="路灯坏了", address="解放路1号")
    assert open311_views.request_view(public).description == "路灯坏了"
    assert open311_views.request_view(public).address == "解放路1号"


def test_open311_xml_follows_the_spec_shapes():
    body, content_type = open311_views.render(open311_views.services(), "xml", shape="services")
    assert content_type.startswith("text/xml")
    parsed = xmltodict.parse(body)["services"]["service"]
    assert len(parsed) == 10 and parsed[0]["metadata"] == "true"
    repairs = open311_views.service_definition(CATEGORIES["repairs"])
    definition, _ = open311_views.render(repairs, "xml", root="service_definition")
    attributes = xmltodict.parse(definition)["service_definition"]["attributes"]["attribute"]
    assert attributes[0]["code"] == "township" and len(attributes[0]["values"]["value"]) == 14
    errors, _ = open311_views.render(open311_views.errors(403, "no key"), "xml", shape="errors")
    assert xmltodict.parse(errors)["errors"]["error"] == {"code": "403", "description": "no key"}


LOOP_STEPS = [
    ("task.offered", lambda ids: factories.task_offered(**ids), 1),
    ("task.declined", lambda ids: factories.task_declined(**ids), 2),
    ("task.accepted", lambda ids: factories.task_accepted(**ids), 2),
    ("task.checked_in", lambda ids: factories.task_checked_in(**ids), 3),
    ("task.completed", lambda ids: factories.task_completed(**ids), 4),
    (
        "request.rated",
        lambda ids: factories.request_rated(request_id="req-1", resident_id="res-1", score=4),
        5,
    ),
]


@settings(max_examples=60, deadline=None)
@given(order=st.permutations(range(len(LOOP_STEPS))), repeats=st.lists(st.integers(0, 5), max_size=4))
def test_any_arrival_order_and_repetition_tells_the_same_story(order, repeats):
    ids = {"request_id": "req-1", "task_id": "t1"}
    reference = submitted()
    for kind, build, minute in LOOP_STEPS:
        at = NOW + timedelta(minutes=minute)
        lifecycle.record(
            reference, kind, build(ids), event_id=kind, occurred_at=at, now=NOW + timedelta(minutes=10)
        )
    shuffled = submitted()
    for index in [*order, *repeats]:
        kind, build, minute = LOOP_STEPS[index]
        at = NOW + timedelta(minutes=minute)
        lifecycle.record(
            shuffled, kind, build(ids), event_id=kind, occurred_at=at, now=NOW + timedelta(minutes=10)
        )
    for viewer in (Viewer("res-1"), Viewer("disp-1", is_staff=True)):
        told, expected = narrate(shuffled, viewer), narrate(reference, viewer)
        assert [(s["kind"], s["said"], s["status_after"]) for s in told] == [
            (s["kind"], s["said"], s["status_after"]) for s in expected
        ]
        assert told[-1]["said"]["en"] in ("All done, thank you", "All done")
