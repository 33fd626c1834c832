"""Rules of the accepting stage, with no servers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.common import contracts
from services.volunteers.hours import domain as hours
from services.volunteers.organisation import domain as organisation
from services.volunteers.people import domain as people
from services.volunteers.tasks import domain
from services.volunteers.tasks.domain import TaskStatus
from tests import factories
from tests.factories import NOW

LATER = NOW + timedelta(hours=2, minutes=20)


def offered_task(**overrides):
    offer = factories.task_offered(task_id="task-1", request_id="req-1", volunteer_id="v1", **overrides)
    return domain.task_from_offer(offer, superseded=False, request_cancelled=False)


def test_the_happy_path_emits_each_step_once():
    task = offered_task()
    assert [type(e) for e in domain.accept(task, "v1", NOW)] == [contracts.TaskAccepted]
    assert [type(e) for e in domain.check_in(task, "v1", NOW)] == [contracts.TaskCheckedIn]
    (completed,) = hours.check_out(task, "v1", LATER, [], None)
    assert task.status == TaskStatus.COMPLETED
    assert completed.participants == [contracts.Participant(volunteer_id="v1", hours=2.25)]
    assert completed.resident_id == "resident-1"
    assert completed.people_served == 1  # one household, unless the volunteer says otherwise


def test_a_lecture_reports_its_audience_as_people_served():
    task = offered_task(category="policy_lecture")
    domain.accept(task, "v1", NOW)
    domain.check_in(task, "v1", NOW)
    (completed,) = hours.check_out(task, "v1", LATER, [], None, people_served=140)
    assert completed.people_served == 140


@pytest.mark.parametrize("action", ["accept", "decline", "check_in"])
def test_only_the_volunteer_offered_the_task_may_act(action):
    task = offered_task()
    arguments = {"decline": {"reason": "x"}}.get(action, {})
    with pytest.raises(domain.NotYourTask):
        getattr(domain, action)(task, "someone-else", now=NOW, **arguments)
    assert task.status == TaskStatus.OFFERED


def test_steps_out_of_order_are_refused():
    task = offered_task()
    with pytest.raises(domain.WrongTaskState):
        domain.check_in(task, "v1", NOW)
    domain.accept(task, "v1", NOW)
    with pytest.raises(domain.WrongTaskState):
        domain.accept(task, "v1", NOW)
    with pytest.raises(domain.WrongTaskState):
        domain.decline(task, "v1", "changed my mind", NOW)


def test_a_decline_needs_a_reason():
    with pytest.raises(domain.DomainError) as caught:
        domain.decline(offered_task(), "v1", "  ", NOW)
    assert caught.value.field == "reason"


def test_late_offers_are_born_withdrawn():
    offer = factories.task_offered(volunteer_id="v1")
    assert (
        domain.task_from_offer(offer, superseded=True, request_cancelled=False).status == TaskStatus.WITHDRAWN
    )
    assert (
        domain.task_from_offer(offer, superseded=False, request_cancelled=True).status == TaskStatus.WITHDRAWN
    )


def test_a_newer_offer_takes_back_only_unanswered_ones():
    waiting, taken = offered_task(), offered_task()
    domain.accept(taken, "v1", NOW)
    assert domain.withdraw_offer(waiting)
    assert not domain.withdraw_offer(taken)
    assert taken.status == TaskStatus.ACCEPTED


def test_cancellation_takes_back_accepted_work_but_not_finished_work():
    accepted, finished = offered_task(), offered_task()
    domain.accept(accepted, "v1", NOW)
    domain.accept(finished, "v1", NOW)
    domain.check_in(finished, "v1", NOW)
    hours.check_out(finished, "v1", LATER, [], None)
    assert domain.withdraw_for_cancellation(accepted)
    assert not domain.withdraw_for_cancellation(finished)


def test_profile_changes_are_announced_with_a_new_version():
    volunteer = people.Volunteer(
        id="v1", name="林志明", township="平湖镇", skills=["elder_care"], registered_at=NOW
    )
    (registered,) = people.register(volunteer)
    assert registered.profile_version == 1
    (updated,) = people.update(volunteer, {"active": False})
    assert isinstance(updated, contracts.VolunteerUpdated)
    assert updated.profile_version == 2 and updated.active is False
    assert people.update(volunteer, {}) == []
    with pytest.raises(people.DomainError):
        people.update(volunteer, {"skills": []})
    with pytest.raises(people.DomainError):
        people.update(volunteer, {"registered_at": NOW})


def test_teams_other_than_the_corps_need_a_parent():
    team = organisation.Team(id="t1", name="分队", kind="sub_team", created_at=NOW)
    with pytest.raises(organisation.DomainError) as caught:
        organisation.create_team(team)
    assert caught.value.field == "parent_id"
    corps = organisation.Team(id="t0", name="总队", kind="county_corps", created_at=NOW)
    (event,) = organisation.create_team(corps)
    assert event.kind == "county_corps"


def test_a_station_serves_the_village_its_name_names():
    from services.volunteers.stations import domain as stations

    assert stations.village_named_in("杉洋镇下洋村新时代文明实践站", "杉洋镇") == "下洋村"
    assert stations.village_named_in("城西街道西门社区新时代文明实践站", "城西街道") == "西门社区"
    assert stations.village_named_in("杉洋镇家庭教育指导站（1）", "杉洋镇") is None
    station = stations.Station(
        id="s1", code="S1", name="杉洋镇下洋村新时代文明实践站", township="杉洋镇", kind="village"
    )
    (created,) = stations.create(station)
    assert (created.village, created.station_version) == ("下洋村", 1)
    (renamed,) = stations.update(station, {"name": "杉洋镇上洋村新时代文明实践站"})
    assert (renamed.village, renamed.station_version) == ("上洋村", 2)
    (told,) = stations.update(station, {"village": "上洋新村"})
    assert told.village == "上洋新村" and stations.update(station, {"village": "上洋新村"}) == []
    guidance = stations.Station(
        id="f1", code="F1", name="杉洋镇家庭教育指导站", township="杉洋镇", kind="family_education"
    )
    assert stations.create(guidance)[0].village is None
