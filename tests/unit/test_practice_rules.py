"""Rules of hours, organisation, pairing and follow-ups (issue 6, items 1, 3, 4, 6), with no servers."""

from __future__ import annotations

import io
from datetime import timedelta

import pypdf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common import contracts
from services.common.county import TOWNSHIPS
from services.common.domain import DomainError, StateConflict
from services.ratings.followups import domain as followups
from services.volunteers.hours import certificate
from services.volunteers.hours import domain as hours
from services.volunteers.organisation import domain as organisation
from services.volunteers.organisation.domain import Team
from services.volunteers.pairing import domain as pairing
from services.volunteers.people.domain import Volunteer
from services.volunteers.tasks import domain
from services.volunteers.tasks.domain import TaskStatus
from tests import factories
from tests.factories import NOW


def accepted_task(code="123456", **overrides):
    offer = factories.task_offered(task_id="task-1", request_id="req-1", volunteer_id="v1", **overrides)
    task = domain.task_from_offer(offer, superseded=False, request_cancelled=False)
    (accepted,) = domain.accept(task, "v1", NOW, service_code=code)
    assert accepted.service_code == code
    return task


# --- hours -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(0, 0.25), (3, 0.25), (7, 0.0 + 0.25), (8, 0.25), (22, 0.25), (23, 0.5), (97, 1.5), (98, 1.75)],
)
def test_hours_are_check_out_minus_check_in_in_quarter_hours(minutes, expected):
    credited, capped = hours.served_hours(NOW, NOW + timedelta(minutes=minutes))
    assert credited == expected and not capped


def test_a_forgotten_check_out_is_capped_and_says_so():
    assert hours.served_hours(NOW, NOW + timedelta(hours=30)) == (hours.MAX_HOURS, True)


def test_service_codes_are_six_digits_and_vary():
    codes = {domain.new_service_code() for _ in range(50)}
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert len(codes) > 40


def test_wrong_codes_count_and_lock_entry_after_the_limit():
    task = accepted_task()
    for attempt in range(1, hours.MAX_CODE_ATTEMPTS):
        check = hours.check_code(task, "000000", NOW)
        hours.record_code_check(task, check)
        assert not check.matched and task.code_attempts == attempt
    last = hours.check_code(task, "000000", NOW)
    hours.record_code_check(task, last)
    assert last.locked_until == NOW + hours.CODE_LOCKOUT
    with pytest.raises(hours.CodeLocked) as refused:
        hours.check_code(task, "123456", NOW + timedelta(minutes=1))
    assert refused.value.field == "code"
    assert hours.check_code(task, "123456", NOW + hours.CODE_LOCKOUT + timedelta(seconds=1)).matched


def test_check_out_credits_every_participant_the_same_hours():
    task = accepted_task(team_id="team-1")
    domain.check_in(task, "v1", NOW)
    (completed,) = hours.check_out(
        task, "v1", NOW + timedelta(hours=2, minutes=5), ["v2", "v3", "v1"], ["v1", "v2", "v3"]
    )
    assert isinstance(completed, contracts.TaskCompleted)
    assert [(p.volunteer_id, p.hours) for p in completed.participants] == [
        ("v1", 2.0),
        ("v2", 2.0),
        ("v3", 2.0),
    ]
    assert task.status == TaskStatus.COMPLETED and task.hours == 2.0


def test_check_out_refuses_companions_outside_the_team_and_a_task_not_checked_in():
    task = accepted_task(team_id="team-1")
    with pytest.raises(domain.WrongTaskState):
        hours.check_out(task, "v1", NOW, [], None)
    domain.check_in(task, "v1", NOW)
    with pytest.raises(hours.NotAParticipant) as refused:
        hours.check_out(task, "v1", NOW + timedelta(hours=1), ["stranger"], ["v1", "v2"])
    assert refused.value.field == "participant_ids" and task.status == TaskStatus.IN_SERVICE


def test_corrections_keep_before_and_after_and_respect_the_township():
    entry = {"_id": "task-1:v1", "volunteer_id": "v1", "township": "平湖镇", "hours": 0.25}
    fix = hours.correct(
        entry, 0.25, hours=2.0, reason="打卡忘了", by="staff-1", staff_township="平湖镇", now=NOW
    )
    assert (fix.before, fix.after, fix.delta, fix.corrected_by) == (0.25, 2.0, 1.75, "staff-1")
    with pytest.raises(hours.NotStaffOfTownship):
        hours.correct(entry, 0.25, hours=2.0, reason="x", by="s", staff_township="城东街道", now=NOW)
    with pytest.raises(DomainError) as odd:
        hours.correct(entry, 0.25, hours=1.1, reason="x", by="s", staff_township=None, now=NOW)
    assert odd.value.field == "hours"
    with pytest.raises(DomainError) as silent:
        hours.correct(entry, 0.25, hours=1.0, reason="  ", by="s", staff_township=None, now=NOW)
    assert silent.value.field == "reason"


# --- organisation ----------------------------------------------------------------------------------
def test_the_county_has_fourteen_institutes_under_the_centre():
    institutes = organisation.default_institutes()
    assert [i.township for i in institutes] == list(TOWNSHIPS) and len(institutes) == 14
    assert institutes[0].name == "城东街道新时代文明实践所"


def test_team_parents_follow_the_hierarchy_and_refuse_cycles():
    organisation.check_parent("county_corps", None, [], "corps")
    organisation.check_parent("sub_team", "standing", ["standing-1", "corps"], "sub-1")
    with pytest.raises(DomainError):
        organisation.check_parent("standing", "sub_team", ["sub-1"], "standing-1")
    with pytest.raises(DomainError):
        organisation.check_parent("sub_team", None, [], "sub-1")
    with pytest.raises(organisation.CycleInTeams):
        organisation.check_parent("sub_team", "standing", ["standing-1", "sub-1"], "sub-1")


def test_joining_and_leaving_a_team_changes_both_sides_once():
    team = Team(id="t1", name="助老分队", kind="sub_team", created_at=NOW, parent_id="s1", leader_id="v1")
    volunteer = Volunteer(id="v1", name="陈志明", township="平湖镇", skills=["elder_care"], registered_at=NOW)
    team_events, volunteer_events = organisation.join_team(team, volunteer)
    assert team.member_ids == ["v1"] and volunteer.team_ids == ["t1"]
    assert len(team_events) == len(volunteer_events) == 1
    assert organisation.join_team(team, volunteer) == ([], [])
    organisation.leave_team(team, volunteer)
    assert team.member_ids == [] and team.leader_id is None and volunteer.team_ids == []


def test_the_tree_counts_stations_teams_and_volunteers_per_institute():
    stations = {("平湖镇", "village"): 28, ("平湖镇", "family_education"): 8, ("城东街道", "community"): 22}
    teams_by_township = {**dict.fromkeys(TOWNSHIPS, 1), "平湖镇": 2}
    team_kinds = {"county_corps": 1, "sub_team": 1}
    tree = organisation.summarise(
        organisation.default_institutes(), stations, teams_by_township, team_kinds, {"平湖镇": 5}
    )
    pinghu = next(row for row in tree.institutes if row.institute.township == "平湖镇")
    assert pinghu.stations == {"village": 28, "community": 0, "family_education": 8}
    assert pinghu.teams == 2 and pinghu.volunteers == 5
    assert tree.practice_stations == 50 and tree.family_education_stations == 8
    assert tree.teams["county_corps"] == 1 and tree.teams["sub_team"] == 1


# --- pairing ---------------------------------------------------------------------------------------
def beneficiary():
    return pairing.Beneficiary(
        id="b1", name="林阿婆", township="卓洋乡", village="前洋村", flags=["living_alone"], registered_at=NOW
    )


def a_pairing(**overrides):
    values = {
        "pairing_id": "p1",
        "beneficiary": beneficiary(),
        "volunteer_ids": ["v1", "v2", "v1"],
        "every_days": 7,
        "grace_hours": 48,
        "first_visit_at": NOW,
        "category": "elder_care",
        "note": None,
        "now": NOW,
    }
    return pairing.new_pairing(**{**values, **overrides})


def test_pairings_are_one_to_one_or_many_to_one():
    assert a_pairing().kind == "many_to_one" and a_pairing().volunteer_ids == ["v1", "v2"]
    assert a_pairing(volunteer_ids=["v1"]).kind == "one_to_one"
    with pytest.raises(DomainError):
        a_pairing(volunteer_ids=[])
    with pytest.raises(DomainError) as unknown:
        pairing.check_beneficiary(["living_alone", "rich"])
    assert unknown.value.field == "flags"


def test_a_due_visit_has_a_deterministic_id_and_moves_the_schedule_once():
    made = a_pairing()
    assert pairing.due_visit(made, beneficiary(), NOW - timedelta(minutes=1)) is None
    visit, event = pairing.due_visit(made, beneficiary(), NOW)
    again, _ = pairing.due_visit(made, beneficiary(), NOW)
    assert visit.id == again.id == "p1:20261129T0800" and event.visit_id == visit.id
    assert event.volunteer_ids == ["v1", "v2"] and visit.complete_by == NOW + timedelta(hours=48)
    pairing.advance(made, visit.due_at, NOW)
    pairing.advance(made, visit.due_at, NOW)  # a second run after a crash changes nothing
    assert made.next_due_at == NOW + timedelta(days=7) and made.visits_made == 1


def test_a_schedule_left_alone_for_weeks_skips_to_the_next_visit_that_can_still_be_made():
    made = a_pairing()
    pairing.advance(made, NOW, NOW + timedelta(days=31))  # day 28 + 48 h grace has passed too
    assert made.next_due_at == NOW + timedelta(days=35)


def test_visits_are_done_by_their_task_and_missed_after_the_grace():
    visit, _ = pairing.due_visit(a_pairing(), beneficiary(), NOW)
    assert pairing.link_request(visit, "req-1") and visit.status == pairing.VisitStatus.REQUESTED
    assert not pairing.miss_if_overdue(visit, visit.complete_by)
    assert pairing.miss_if_overdue(visit, visit.complete_by + timedelta(seconds=1))
    assert visit.status == pairing.VisitStatus.MISSED
    assert pairing.complete(visit, "task-1", ["v1"], visit.complete_by + timedelta(hours=1))
    assert visit.status == pairing.VisitStatus.DONE and visit.missed_at is not None
    assert not pairing.complete(visit, "task-1", ["v1"], NOW)


# --- follow-ups ------------------------------------------------------------------------------------
def test_sampling_is_stable_and_close_to_the_rate():
    ids = [f"01JREQUEST{n:08d}" for n in range(4000)]
    chosen = [request_id for request_id in ids if followups.sampled(request_id, 10)]
    assert 0.08 < len(chosen) / len(ids) < 0.12
    assert chosen == [request_id for request_id in ids if followups.sampled(request_id, 10)]
    assert not any(followups.sampled(request_id, 0) for request_id in ids)
    assert all(followups.sampled(request_id, 100) for request_id in ids)


def test_a_follow_up_is_resolved_once_by_its_township():
    item = followups.Followup(
        id="req-1", township="平湖镇", category="repairs", reasons=["low_score"], opened_at=NOW
    )
    with pytest.raises(followups.NotYourTownship):
        followups.resolve(item, outcome="satisfied", note=None, by="s", staff_township="城东街道", now=NOW)
    (event,) = followups.resolve(
        item, outcome="resolved", note="已上门道歉", by="s", staff_township="平湖镇", now=NOW
    )
    assert isinstance(event, contracts.FollowupResolved) and event.outcome == "resolved"
    with pytest.raises(StateConflict):
        followups.resolve(item, outcome="resolved", note=None, by="s", staff_township=None, now=NOW)


def test_a_low_score_on_a_sampled_request_adds_its_reason():
    item = followups.Followup(
        id="req-1", township="平湖镇", category="repairs", reasons=["sampled"], opened_at=NOW
    )
    assert followups.add_reason(item, "low_score", score=1, comment="没来")
    assert item.reasons == ["sampled", "low_score"] and item.score == 1
    assert not followups.add_reason(item, "low_score", score=1, comment="没来")


@given(minutes=st.floats(min_value=0, max_value=48 * 60, allow_nan=False))
def test_credited_hours_are_quarters_near_the_time_served(minutes):
    credited, capped = hours.served_hours(NOW, NOW + timedelta(minutes=minutes))
    assert credited * 4 == int(credited * 4) and hours.MIN_HOURS <= credited <= hours.MAX_HOURS
    if not capped and minutes >= 7.5:
        assert abs(credited - minutes / 60) <= 0.125 + 1e-9
    assert capped == (minutes / 60 >= hours.MAX_HOURS + 0.125)


@pytest.mark.parametrize("cjk", [True, False])
def test_the_certificate_parses_and_carries_the_total_with_or_without_a_cjk_font(monkeypatch, cjk):
    if not cjk:
        monkeypatch.setattr(certificate, "CJK_FONTS", ())
    elif certificate.cjk_font() is None:
        pytest.skip("no CJK font on this machine (deploy/local/stack.sh installs one)")
    lines = [
        {"_id": f"task-{n}:v-1", "task_id": f"task-{n}", "request_id": f"req-{n}", "township": "平湖镇"}
        | {"completed_at": NOW, "hours": hours}
        for n, hours in ((1, 2.0), (2, 1.75))
    ]
    volunteer = Volunteer(
        id="v-1", name="陈志明", township="平湖镇", skills=["elder_care"], registered_at=NOW
    )
    pdf = certificate.render(volunteer, hours.ledger("v-1", lines), NOW)
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Total hours: 3.75" in text and "task-2" in text
    assert ("陈志明" in text) == cjk
    assert ("no CJK font" in text) == (not cjk)
