"""The rollout figures' rules: facts from events (idempotent, any order) and the county report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.common import contracts
from services.requests.stats import domain as stats_domain
from services.requests.stats.domain import FiledReport, Period, SubmittedRequest
from services.requests.stats.schemas import rollout_view

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
TOWN = "平湖镇"


def view(report: stats_domain.Report) -> dict:
    """The report as `GET /api/v1/stats/rollout` sends it."""
    return rollout_view(report, generated_at=T0).model_dump(mode="json", by_alias=True)


def offered(task_id, at=T0, minutes=120):
    return contracts.TaskOffered(
        task_id=task_id,
        request_id="r1",
        attempt=1,
        volunteer_id="v1",
        level="township",
        deadline=at + timedelta(minutes=minutes),
        resident_id="p1",
        category="elder_care",
        township=TOWN,
        village="v",
        title="t",
        description="d",
        offered_at=at,
    )


def accepted(task_id, at):
    return contracts.TaskAccepted(
        task_id=task_id,
        request_id="r1",
        volunteer_id="v1",
        township=TOWN,
        category="elder_care",
        accepted_at=at,
    )


def declined(task_id, at):
    return contracts.TaskDeclined(
        task_id=task_id,
        request_id="r1",
        volunteer_id="v1",
        reason="busy",
        township=TOWN,
        category="elder_care",
        declined_at=at,
    )


def completed(at, hours=(2.0, 1.5), people=3):
    return contracts.TaskCompleted(
        task_id="t2",
        request_id="r1",
        volunteer_id="v1",
        participants=[contracts.Participant(volunteer_id=f"v{i}", hours=h) for i, h in enumerate(hours)],
        hours=max(hours),
        people_served=people,
        resident_id="p1",
        township=TOWN,
        category="elder_care",
        completed_at=at,
    )


def rated(score, at):
    return contracts.RequestRated(
        rating_id="x",
        request_id="r1",
        score=score,
        resident_id="p1",
        volunteer_id="v1",
        township=TOWN,
        category="elder_care",
        rated_at=at,
    )


def test_an_offer_accepted_before_its_deadline_counts_once_whatever_the_order():
    events = [
        ("task.offered", offered("t1")),
        ("task.declined", declined("t1", T0 + timedelta(minutes=5))),
        ("task.accepted", accepted("t2", T0 + timedelta(minutes=30))),
        ("task.offered", offered("t2", T0 + timedelta(minutes=10))),
    ]
    in_order = stats_domain.new_fact("r1", TOWN, "elder_care")
    deltas = [stats_domain.apply(in_order, kind, data) for kind, data in events]
    assert sum(d.offers for d in deltas) == 2
    assert sum(d.offers_in_time for d in deltas) == 1
    # the acceptance came before its offer: the in-time offer is counted when the offer arrives
    assert deltas[3].offers_in_time == 1 and deltas[2].offers_in_time == 0
    repeated = [stats_domain.apply(in_order, kind, data) for kind, data in events]
    assert all(d == stats_domain.Delta() for d in repeated)

    reversed_fact = stats_domain.new_fact("r1", TOWN, "elder_care")
    for kind, data in reversed(events):
        stats_domain.apply(reversed_fact, kind, data)
    assert reversed_fact == in_order


def test_a_late_acceptance_is_not_in_time_and_an_unanswered_offer_becomes_overdue():
    fact = stats_domain.new_fact("r1", TOWN, "elder_care")
    stats_domain.apply(fact, "task.offered", offered("t1", minutes=60))
    assert fact.overdue_offers(T0 + timedelta(minutes=59)) == 0
    assert fact.overdue_offers(T0 + timedelta(minutes=61)) == 1
    delta = stats_domain.apply(fact, "task.accepted", accepted("t1", T0 + timedelta(minutes=61)))
    assert delta.offers_in_time == 0 and fact.in_time_count() == 0
    assert fact.overdue_offers(T0 + timedelta(days=1)) == 0


def test_completion_counts_participants_hours_and_people_once():
    fact = stats_domain.new_fact("r1", TOWN, "elder_care")
    first = stats_domain.apply(fact, "task.completed", completed(T0))
    again = stats_domain.apply(fact, "task.completed", completed(T0))
    assert first.completion == stats_domain.Completion(T0, 3.5, 2, 3)
    assert again.completion is None


def test_the_report_counts_each_figure_at_its_own_time_and_computes_the_rates():
    lecture = stats_domain.new_fact("r2", "杉洋镇", stats_domain.LECTURE_CATEGORY)
    stats_domain.apply(lecture, "task.offered", offered("l1"))
    stats_domain.apply(lecture, "task.accepted", accepted("l1", T0 + timedelta(minutes=1)))
    stats_domain.apply(lecture, "task.completed", completed(T0 + timedelta(hours=3), hours=(2.0,), people=80))
    stats_domain.apply(lecture, "request.rated", rated(3, T0 + timedelta(days=2)))

    fact = stats_domain.new_fact("r1", TOWN, "elder_care")
    stats_domain.apply(fact, "task.offered", offered("t1"))
    stats_domain.apply(fact, "task.declined", declined("t1", T0 + timedelta(minutes=2)))
    stats_domain.apply(fact, "task.offered", offered("t2"))
    stats_domain.apply(fact, "task.accepted", accepted("t2", T0 + timedelta(minutes=3)))
    stats_domain.apply(fact, "task.completed", completed(T0 + timedelta(hours=4)))
    stats_domain.apply(fact, "request.rated", rated(5, T0 + timedelta(hours=5)))

    submissions = [
        SubmittedRequest(TOWN, "elder_care", T0),
        SubmittedRequest(TOWN, "repairs", T0),
        SubmittedRequest("杉洋镇", stats_domain.LECTURE_CATEGORY, T0),
    ]
    patrols = [
        FiledReport(TOWN, "resolved_on_site", T0),
        FiledReport(TOWN, "joint_consultation", T0 + timedelta(days=5)),
    ]
    day_one = Period(T0 - timedelta(hours=1), T0 + timedelta(days=1))
    report = view(stats_domain.aggregate(submissions, [lecture, fact], patrols, day_one))

    assert len(report["townships"]) == 14
    town = next(row for row in report["townships"] if row["township"] == TOWN)
    assert town["rates"] == {"response": 0.5, "resolution": 0.5, "satisfaction": 1.0}
    assert town["activities"] == 1 and town["volunteer_participations"] == 2 and town["people_served"] == 3
    assert town["volunteer_hours"] == 3.5
    assert town["patrol_reports"] == {
        "resolved_on_site": 1,
        "reported_to_community": 0,
        "joint_consultation": 0,
        "total": 1,
    }
    total = report["total"]
    assert total["lectures"] == 1 and total["lecture_audience"] == 80
    # the lecture's rating (day three) falls outside the period
    assert total["counts"]["ratings"] == 1
    assert total["rates"] == {"response": round(2 / 3, 4), "resolution": round(2 / 3, 4), "satisfaction": 1.0}
    quiet = next(row for row in report["townships"] if row["township"] == "卓洋乡")
    assert quiet["rates"] == {"response": None, "resolution": None, "satisfaction": None}

    only = view(stats_domain.aggregate(submissions, [lecture, fact], patrols, Period(), township="杉洋镇"))
    assert [row["township"] for row in only["townships"]] == ["杉洋镇"]
    assert only["total"]["rates"]["satisfaction"] == 0.0
    assert only["total"]["counts"]["submitted"] == 1
