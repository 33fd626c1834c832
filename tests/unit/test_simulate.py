"""The simulator's own rules, without a stack: scenarios, demand, the accounting of one order, state."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from civicloop.simulate.accounting import classify, differences, percentiles, truth_figures
from civicloop.simulate.demand import arrivals
from civicloop.simulate.scenario import load_scenario
from civicloop.simulate.truth import Order, Truth
from civicloop.simulate.world import expiry_grace

GUTIAN = load_scenario("gutian")


def test_the_shipped_scenarios_load_and_gutian_has_the_countys_facts():
    assert len(GUTIAN.townships) == 14 and sum(t.stations for t in GUTIAN.townships) == 289
    assert GUTIAN.family_education_stations == 108
    teams = GUTIAN.teams
    assert (len(teams.standing), teams.sub_teams, teams.lecture_brand) == (8, 300, 29)
    assert GUTIAN.published.patrols == {
        "resolved_on_site": 800,
        "reported_to_community": 300,
        "joint_consultation": 150,
    }
    assert load_scenario("small").township_names == ["城东街道", "平湖镇", "卓洋乡"]


def test_a_scenario_with_an_unknown_category_or_impossible_behaviour_is_refused(tmp_path):
    raw = GUTIAN.model_dump(mode="json")
    raw["demand"]["orders"]["knitting"] = 3
    with pytest.raises(ValidationError, match="knitting"):
        type(GUTIAN).model_validate(raw)
    raw = GUTIAN.model_dump(mode="json")
    raw["behaviour"]["accept"], raw["behaviour"]["decline"] = 0.9, 0.2
    with pytest.raises(ValidationError, match="accept"):
        type(GUTIAN).model_validate(raw)


def test_a_year_of_demand_matches_the_scenario_and_follows_festivals_and_summer():
    year = arrivals(GUTIAN, 365, seed=3)
    assert arrivals(GUTIAN, 365, seed=3) == year, "a seed gives the same county"
    assert arrivals(GUTIAN, 365, seed=4) != year
    kinds = Counter(a.kind for a in year)
    assert abs(kinds["lecture"] - GUTIAN.demand.lectures) <= 4 * GUTIAN.demand.lectures**0.5
    tiers = Counter(a.tier for a in year if a.tier)
    for tier, yearly in GUTIAN.demand.patrols.items():
        # Poisson counts: within four standard deviations of the year's mean.
        assert abs(tiers[tier] - yearly) <= 4 * yearly**0.5, tier

    def month(arrival):
        return (datetime.fromtimestamp(arrival.at, UTC).month, arrival)

    elder = Counter(m for m, a in map(month, year) if a.category == "elder_care" and a.kind == "order")
    # 重阳 (18 Oct) triples elder care in the fortnight before it; November has no festival.
    assert elder[10] > 1.5 * elder[11]
    patrols = Counter(m for m, a in map(month, year) if a.kind == "patrol")
    assert patrols[7] > 1.3 * patrols[4], "more patrols in summer"
    assert all(a.at >= GUTIAN.start.timestamp() for a in year)
    assert [a.at for a in year] == sorted(a.at for a in year)


def order(**overrides) -> Order:
    values = dict(
        key="o1",
        kind="order",
        category="elder_care",
        township="平湖镇",
        village="溪口村",
        urgency="normal",
        orderer="r",
        orderer_role="resident",
        planned_at=0.0,
        request_id="R",
        submitted_at=0.0,
    )
    return Order(**{**values, **overrides})


JOB = {"status": "offered", "attempts": [], "next_deadline": "1970-01-01T01:00:00+00:00"}


@pytest.mark.parametrize(
    ("ours", "stored", "job", "expected"),
    [
        ({}, None, None, "lost"),
        ({"score": 5}, {"status": "closed"}, JOB, "closed"),
        ({"score": 5}, {"status": "rated"}, JOB, "stuck: rated, still rated"),
        ({"completions": 1}, {"status": "accepted"}, JOB, "stuck: checked out, still accepted"),
        ({"completions": 2}, {"status": "closed"}, JOB, "doubled"),
        (
            {"outcome": "cancelled"},
            {"status": "accepted"},
            JOB,
            "stuck: cancelled by its resident, still accepted",
        ),
        ({}, {"status": "dispatched"}, JOB, "stuck: an offer past its deadline was never taken back"),
        (
            {},
            {"status": "dispatched"},
            {**JOB, "next_deadline": "1970-01-02T00:00:00+00:00"},
            "open: offered",
        ),
        ({}, {"status": "submitted"}, None, "stuck: dispatch never heard of it"),
        (
            {"completions": 1},
            {"status": "completed"},
            {**JOB, "status": "completed"},
            "open: awaiting the resident's rating",
        ),
        (
            {"completions": 1},
            {"status": "closed"},
            {**JOB, "attempts": [{"status": "completed"}, {"status": "completed"}]},
            "doubled",
        ),
    ],
)
def test_each_order_lands_in_exactly_one_place(ours, stored, job, expected):
    # "now" is a day after submission: six hours past a one-hour deadline is stuck.
    assert classify(order(**ours), stored, job, now=86400.0) == expected


def test_the_ground_truths_figures_and_the_reports_must_agree(tmp_path):
    truth = Truth(scenario="small", seed=1, days=1, speed=10, origin=0.0)
    truth.orders = {
        "a": order(key="a", completions=1, hours=2.5, participants=3, people_served=9, score=5),
        "b": order(
            key="b",
            category="policy_lecture",
            completions=1,
            hours=2,
            participants=2,
            people_served=120,
            score=3,
        ),
        "p": order(key="p", kind="patrol", tier="resolved_on_site", report_id="P", request_id=None),
    }
    figures = truth_figures(truth)
    assert (
        figures["activities"] == 2 and figures["lecture_audience"] == 120 and figures["ratings_4_or_5"] == 1
    )
    block = {
        "activities": 2,
        "volunteer_participations": 5,
        "people_served": 129,
        "volunteer_hours": 4.5,
        "lectures": 1,
        "lecture_audience": 120,
        "counts": {"submitted": 2, "ratings": 2, "ratings_4_or_5": 1},
        "patrol_reports": {"resolved_on_site": 1, "reported_to_community": 0, "joint_consultation": 0},
    }
    rollout = {"townships": [{**block, "township": "平湖镇"}], "total": block}
    assert differences(truth, rollout) == []
    rollout["total"] = {**block, "people_served": 130}
    assert differences(truth, rollout) == [("total", "people_served", 129, 130)]
    # The state survives a save and a load (what --resume reads).
    truth.save(tmp_path / "state.json")
    again = Truth.load(tmp_path / "state.json")
    assert again.orders["b"] == truth.orders["b"] and truth_figures(again) == figures


def test_grace_and_percentiles():
    assert expiry_grace(1) == 30 and expiry_grace(100) == 300 and expiry_grace(20_000) == 3600
    assert percentiles([3.0, 1.0, 2.0]) == {"p50": 2.0, "p90": 3.0, "max": 3.0, "n": 3}
    assert percentiles([])["n"] == 0
