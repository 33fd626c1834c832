"""The dispatch engine without servers: cascade, eligibility, scoring, index, batch, people, read-model."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from hypothesis import event as hypothesis_event
from hypothesis import given, settings
from hypothesis import strategies as st

from services.common import contracts
from services.common.domain import DomainError
from services.dispatch.candidates import domain as readmodel
from services.dispatch.engine import batch, cascade
from services.dispatch.engine.eligibility import Candidate, is_available
from services.dispatch.engine.index import CandidateIndex, NaiveScan
from services.dispatch.engine.scoring import bayesian_reputation, score
from services.dispatch.jobs import answers as job_answers
from services.dispatch.jobs import domain
from services.dispatch.jobs.domain import AttemptStatus, JobStatus
from services.dispatch.policy.domain import Policy
from services.dispatch.staff import domain as people
from tests import factories
from tests.factories import NOW

TOWNSHIPS = ["平湖镇", "大桥镇"]
STATIONS = ["s1", "s2", None]
SKILLS = ["elder_care", "legal", "repairs"]
POLICY = Policy()


def new_job(policy=POLICY, **overrides):
    return domain.job_from_submission(factories.request_submitted(request_id="req-1", **overrides), policy)


def person(vid, township="平湖镇", skills=("elder_care",), **kwargs):
    return Candidate(id=vid, township=township, skills=list(skills), **kwargs)


def team(tid, townships=("平湖镇",), categories=("elder_care",), kind="sub_team", **kwargs):
    kwargs.setdefault("leader_id", f"{tid}-leader")
    kwargs.setdefault("leader_active", True)
    return Candidate(
        id=tid,
        township="",
        skills=[],
        kind="team",
        team_kind=kind,
        townships=list(townships),
        categories=list(categories),
        capacity=5,
        **kwargs,
    )


# --- strategies ------------------------------------------------------------------------------------
volunteers = st.builds(
    Candidate,
    id=st.text("abcdefgh", min_size=1, max_size=3).map(lambda s: f"v-{s}"),
    township=st.sampled_from(TOWNSHIPS),
    skills=st.lists(st.sampled_from(SKILLS), min_size=1, max_size=3, unique=True),
    active=st.sampled_from([True, True, True, False]),
    capacity=st.sampled_from([0, 1, 2, 3, 3]),
    open_task_ids=st.lists(st.text("xyz", min_size=1, max_size=2), max_size=2, unique=True),
    station_id=st.sampled_from(STATIONS),
    rating_sum=st.floats(0, 50),
    rating_count=st.integers(0, 10),
    weekly=st.sampled_from(
        [[], [{"day": 6, "start": "08:00", "end": "18:00"}], [{"day": 1, "start": "08:00", "end": "09:00"}]]
    ),
)
teams = st.builds(
    Candidate,
    id=st.text("ijklmn", min_size=1, max_size=3).map(lambda s: f"t-{s}"),
    township=st.just(""),
    skills=st.just([]),
    kind=st.just("team"),
    team_kind=st.sampled_from(["sub_team", "standing", "county_corps"]),
    townships=st.lists(st.sampled_from(TOWNSHIPS), max_size=2, unique=True),
    categories=st.lists(st.sampled_from(["elder_care", "legal_aid"]), min_size=1, max_size=2, unique=True),
    active=st.sampled_from([True, True, False]),
    capacity=st.integers(0, 3),
    leader_id=st.sampled_from(["v-lead", "v-lead", None]),
    leader_active=st.sampled_from([True, True, False]),
)
pools = st.tuples(
    st.lists(volunteers, max_size=14, unique_by=lambda c: c.id),
    st.lists(teams, max_size=5, unique_by=lambda c: c.id),
).map(lambda pair: pair[0] + pair[1])
requests = st.fixed_dictionaries(
    {
        "skills": st.lists(st.sampled_from(SKILLS), min_size=1, max_size=1),
        "township": st.sampled_from(TOWNSHIPS),
        "category": st.sampled_from(["elder_care", "legal_aid"]),
        "preassigned": st.lists(
            st.text("abcdefgh", min_size=1, max_size=3).map(lambda s: f"v-{s}"), max_size=2
        ),
    }
)


@settings(max_examples=400, deadline=None)
@given(
    candidates=pools,
    request=requests,
    answers=st.lists(st.sampled_from(["decline", "expire", "accept"]), max_size=20),
)
def test_cascade_invariants(candidates, request, answers):
    """Never ineligible, never two open offers, never again to a decliner, levels only go forward."""
    job = new_job(
        skills_required=request["skills"],
        township=request["township"],
        category=request["category"],
        preassigned_volunteer_ids=request["preassigned"],
    )
    by_id = {c.id: c for c in candidates}
    levels_seen: list[str] = []
    for step in range(1, len(answers) + 2):
        snapshot_tried = set(job.tried)
        events = domain.dispatch_next(job, list(candidates), task_id=f"task-{step}", now=NOW, policy=POLICY)
        assert sum(a.status == AttemptStatus.OFFERED for a in job.attempts) <= 1
        offered = [e for e in events if isinstance(e, contracts.TaskOffered)]
        for e in offered:
            chosen = by_id[e.team_id or e.volunteer_id]
            assert chosen.id not in snapshot_tried, "never a second offer to anyone offered before"
            assert chosen.active and chosen.load < chosen.capacity
            if chosen.is_team:
                assert job.category in chosen.categories
                assert chosen.leader_id is not None and chosen.leader_active, "only a leader can answer"
            else:
                assert set(request["skills"]) <= set(chosen.skills)
                assert is_available(chosen, NOW)
            if e.level == "station":
                assert chosen.township == job.township
            if e.level == "pairing":
                assert chosen.id in request["preassigned"]
            levels_seen.append(e.level)
        if job.open_attempt is None or step > len(answers):
            break
        answer = answers[step - 1]
        attempt = job.open_attempt
        if answer == "accept":
            assert job_answers.accepted(job, attempt.task_id)
            break
        if answer == "decline":
            job_answers.declined(job, attempt.task_id, attempt.candidate_id, "no")
        else:
            assert domain.expire(job, attempt.deadline + timedelta(seconds=1))
    hypothesis_event(f"offers made: {min(len(levels_seen), 4)}")
    hypothesis_event(f"levels: {sorted(set(levels_seen))}")
    order = [cascade.LEVELS.index(level) for level in levels_seen]
    assert order == sorted(order), f"cascade went back: {levels_seen}"
    counts = domain.attempts_by_level(job)
    assert counts.get("station", 0) <= POLICY.station_attempts
    assert counts.get("township", 0) <= POLICY.township_attempts
    assert counts.get("county", 0) <= POLICY.county_attempts
    if job.status == JobStatus.ESCALATED:
        assert job.pooled_at is not None and job.open_attempt is None


@settings(max_examples=150, deadline=None)
@given(candidates=pools, request=requests)
def test_index_and_naive_scan_choose_the_same(candidates, request):
    """The index only narrows the search: its decision equals a scan of everyone."""
    fast = new_job(skills_required=request["skills"], township=request["township"])
    slow = new_job(skills_required=request["skills"], township=request["township"])
    a = domain.dispatch_next(fast, CandidateIndex(candidates), task_id="t", now=NOW)
    b = domain.dispatch_next(slow, NaiveScan(candidates), task_id="t", now=NOW)
    assert a == b


@settings(max_examples=100, deadline=None)
@given(candidates=st.lists(volunteers, min_size=1, max_size=12, unique_by=lambda c: c.id), data=st.data())
def test_batch_is_never_worse_than_greedy(candidates, data):
    needs = [
        new_job(
            skills_required=data.draw(st.lists(st.sampled_from(SKILLS), min_size=1, max_size=1)),
            township=data.draw(st.sampled_from(TOWNSHIPS)),
        ).need(NOW)
        for _ in range(data.draw(st.integers(1, 8)))
    ]
    tried = [set() for _ in needs]
    source = CandidateIndex(candidates)
    g = batch.greedy(needs, tried, source, POLICY, NOW)
    j = batch.joint(needs, tried, source, POLICY, NOW)
    used = {cid: j.count(cid) for cid in set(j) if cid}
    assert all(source.get(cid).load + n <= source.get(cid).capacity for cid, n in used.items())
    assert (
        batch.total_score(needs, j, source, tried, POLICY, NOW)
        >= batch.total_score(needs, g, source, tried, POLICY, NOW) - 1e-9
    )


def test_batch_beats_greedy_when_first_come_takes_the_only_specialist():
    lawyer_and_carer = person("both", skills=("elder_care", "legal"), capacity=1)
    carer = person("carer", capacity=1)
    needs = [new_job().need(NOW), new_job(skills_required=["legal"], category="legal_aid").need(NOW)]
    source = CandidateIndex([lawyer_and_carer, carer])
    tried = [set(), set()]
    assert batch.greedy(needs, tried, source, POLICY, NOW) == ["both", None]
    assert batch.joint(needs, tried, source, POLICY, NOW) == ["carer", "both"]


# --- eligibility -----------------------------------------------------------------------------------
def test_weekly_schedule_and_exceptions():
    sunday_morning = NOW.replace(hour=1)  # 09:00 local, a Sunday
    v = person("v", weekly=[{"day": 6, "start": "08:00", "end": "12:00"}])
    assert is_available(v, sunday_morning, sunday_morning + timedelta(hours=2))
    assert not is_available(v, sunday_morning, sunday_morning + timedelta(hours=4))
    assert not is_available(v, sunday_morning + timedelta(days=1))
    away = person("w", weekly=v.weekly, exceptions=[{"date": "2026-11-29", "available": False}])
    assert not is_available(away, sunday_morning)
    extra = person(
        "x",
        weekly=v.weekly,
        exceptions=[{"date": "2026-11-30", "available": True, "start": "18:00", "end": "20:00"}],
    )
    assert is_available(extra, NOW.replace(day=30, hour=10, minute=30))
    lunch = person(
        "y", exceptions=[{"date": "2026-11-29", "available": False, "start": "08:30", "end": "10:00"}]
    )
    assert not is_available(lunch, sunday_morning) and is_available(lunch, NOW)


def test_unavailable_volunteers_are_skipped_for_the_requested_window():
    window = contracts.TimeWindow(start=NOW + timedelta(days=1), end=NOW + timedelta(days=1, hours=1))
    job = new_job(window=window)  # Monday 16:00 local
    busy = person("busy", weekly=[{"day": 0, "start": "08:00", "end": "12:00"}])
    free = person("free", weekly=[{"day": 0, "start": "14:00", "end": "18:00"}])
    (event,) = domain.dispatch_next(job, [busy, free], task_id="t", now=NOW)
    assert event.volunteer_id == "free"
    assert job.attempts[0].excluded == {"station: not available in the requested window": 1}


def test_pairing_volunteers_win_when_eligible():
    job = new_job(preassigned_volunteer_ids=["paired"])
    (event,) = domain.dispatch_next(
        job,
        [person("near", station_id="s-pinghu"), person("paired", township="大桥镇")],
        task_id="t",
        now=NOW,
    )
    assert event.volunteer_id == "paired" and event.level == "pairing"
    job = new_job(preassigned_volunteer_ids=["paired"])
    (event,) = domain.dispatch_next(
        job, [person("near"), person("paired", active=False)], task_id="t", now=NOW
    )
    assert event.volunteer_id == "near" and event.level == "station"


def test_wishes_go_straight_to_the_pool():
    job = new_job(source="wish")
    (event,) = domain.dispatch_next(job, [person("v")], task_id="t", now=NOW)
    assert isinstance(event, contracts.RequestPooled) and event.resident_id == "resident-1"
    assert job.status == JobStatus.POOLED and job.attempts == []


def test_a_team_nobody_can_answer_is_passed_over():
    """Issue 15 #1: no leader, or a leader who no longer serves: the cascade moves on to the next team."""
    teams_only = Policy(station_attempts=0)
    leaderless = team("a-leaderless", leader_id=None)
    retired = team("b-retired", leader_active=False)
    led = team("c-led")
    job = new_job(policy=teams_only)
    (event,) = domain.dispatch_next(job, [leaderless, retired, led], task_id="t", now=NOW, policy=teams_only)
    assert event.team_id == "c-led" and event.level == "township"
    assert job.attempts[-1].excluded == {"township: no active leader to answer the offer": 2}
    job = new_job(policy=teams_only)
    events = domain.dispatch_next(job, [leaderless, retired], task_id="t", now=NOW, policy=teams_only)
    assert not any(isinstance(e, contracts.TaskOffered) for e in events)
    assert any(isinstance(e, contracts.RequestPooled) for e in events), "the pool, not a dead inbox"


def test_a_team_view_answers_only_through_its_active_leader():
    """The read-model gives a team its leader's activity: unknown or inactive leaders answer nothing."""
    view = {**readmodel.empty("t1", "team"), "profile_version": 1, "active": True, "leader_id": "v1"}
    leader = {**readmodel.empty("v1", "volunteer"), "profile_version": 2, "active": True}
    assert readmodel.to_candidate(view, leader=leader).answerable
    assert not readmodel.to_candidate(view, leader=None).answerable, "a leader dispatch never heard of"
    assert not readmodel.to_candidate(view, leader={**leader, "active": False}).answerable
    assert not readmodel.to_candidate(view, leader={**leader, "_id": "v2"}).answerable
    assert not readmodel.to_candidate({**view, "leader_id": None}, leader=leader).answerable


# --- scoring ---------------------------------------------------------------------------------------
def test_one_bad_rating_does_not_sink_a_volunteer():
    assert bayesian_reputation(POLICY, 1, 1) == pytest.approx((5 * 4 + 1) / 6)
    assert bayesian_reputation(POLICY, 0, 0) == 4.0
    assert bayesian_reputation(POLICY, 50, 10) > bayesian_reputation(POLICY, 5, 1)


def test_proximity_and_distance():
    near = person("near", station_id="s1", latitude=26.58, longitude=118.74)
    far = person("far", station_id="s2", latitude=26.70, longitude=118.90)
    kwargs = {
        "township": "平湖镇",
        "station_id": "s1",
        "point": (26.58, 118.74),
        "policy": POLICY,
        "now": NOW,
    }
    a, b = score(near, **kwargs), score(far, **kwargs)
    assert a["proximity"] == "station" and b["proximity"] == "township"
    assert a["parts"]["distance"] == 1.0 and 0 < b["parts"]["distance"] < 0.5 and b["distance_km"] > 15
    assert a["total"] > b["total"]


def test_weights_come_from_the_policy():
    loaded = person("loaded", open_task_ids=["t"], capacity=2)
    rated = person("rated", rating_sum=1.0, rating_count=3)
    only_load = Policy(
        weights={"proximity": 0, "distance": 0, "reputation": 0, "load": 1, "fairness": 0, "acceptance": 0}
    )
    only_reputation = Policy(
        weights={"proximity": 0, "distance": 0, "reputation": 1, "load": 0, "fairness": 0, "acceptance": 0}
    )
    assert (
        domain.dispatch_next(new_job(), [loaded, rated], task_id="t", now=NOW, policy=only_load)[
            0
        ].volunteer_id
        == "rated"
    )
    assert (
        domain.dispatch_next(new_job(), [loaded, rated], task_id="t", now=NOW, policy=only_reputation)[
            0
        ].volunteer_id
        == "loaded"
    )


# --- people in the loop ----------------------------------------------------------------------------
def test_review_holds_then_approves_or_rejects_with_a_reason():
    policy = Policy(review_categories=["elder_care"])
    job = new_job(policy)
    assert job.status == JobStatus.IN_REVIEW
    assert domain.dispatch_next(job, [person("v")], task_id="t", now=NOW, policy=policy) == []
    with pytest.raises(DomainError):
        people.review(job, approve=False, reason=" ", reviewer="d", now=NOW)
    event = people.review(job, approve=False, reason="不属于服务范围", reviewer="d", now=NOW)
    assert event.decision == "rejected" and job.status == JobStatus.REJECTED
    job = new_job(policy)
    people.review(job, approve=True, reason=None, reviewer="d", now=NOW)
    assert (
        domain.dispatch_next(job, [person("v")], task_id="t", now=NOW, policy=policy)[0].volunteer_id == "v"
    )


def test_manual_assignment_obeys_eligibility_and_returns_to_the_dispatcher():
    job = new_job()
    domain.dispatch_next(job, [person("a")], task_id="t1", now=NOW)
    job_answers.declined(job, "t1", "a", "no")
    domain.dispatch_next(job, [person("a")], task_id="t2", now=NOW)
    assert job.status == JobStatus.ESCALATED
    with pytest.raises(domain.NotAssignable):
        people.assign_by_hand(job, person("a"), dispatcher="d", task_id="t3", now=NOW, policy=POLICY)
    with pytest.raises(domain.NotAssignable):
        people.assign_by_hand(
            job, person("lawyer", skills=["legal"]), dispatcher="d", task_id="t3", now=NOW, policy=POLICY
        )
    offer = people.assign_by_hand(
        job, person("b", township="大桥镇"), dispatcher="d", task_id="t3", now=NOW, policy=POLICY
    )
    assert offer.level == "manual" and job.status == JobStatus.OFFERED
    attempt = job.open_attempt
    job_answers.declined(job, "t3", "b", "no")
    (event,) = domain.after_no(job, attempt, NOW)
    assert isinstance(event, contracts.RequestEscalated) and job.status == JobStatus.ESCALATED


def test_a_claim_from_the_pool_is_accepted_once():
    job = new_job()
    domain.dispatch_next(job, [], task_id="t", now=NOW)
    assert job.status == JobStatus.ESCALATED
    assert job_answers.accepted(job, "claim-1", volunteer_id="v", now=NOW)
    assert job.attempts[-1].level == "pool" and job.status == JobStatus.ACCEPTED
    assert not job_answers.accepted(job, "claim-2", volunteer_id="w", now=NOW)


# --- the read-model --------------------------------------------------------------------------------
def _events(n_volunteers: int, seed: int) -> list[tuple]:
    rng = random.Random(seed)
    events: list[tuple] = []
    for v in range(n_volunteers):
        for version in range(1, rng.randint(2, 4)):
            profile = {
                "township": rng.choice(TOWNSHIPS),
                "skills": ["elder_care"],
                "active": rng.random() > 0.2,
                "capacity": rng.randint(1, 3),
                "profile_version": version,
            }
            events.append(("profile", f"v{v}", profile))
        for t in range(rng.randint(0, 5)):
            task = f"v{v}-t{t}"
            events.append(("opened", f"v{v}", task, NOW + timedelta(minutes=rng.randint(0, 600))))
            outcome = rng.choice(["accept", "close", "open", "accept-close"])
            if outcome.startswith("accept"):
                events.append(("accepted", f"v{v}", task, NOW))
            if outcome.endswith("close"):
                events.append(("closed", f"v{v}", task))
        for r in range(rng.randint(0, 3)):
            events.append(("rated", f"v{v}", f"r{v}-{r}", rng.randint(1, 5)))
    return events


def _build(events: list[tuple]) -> dict[str, dict]:
    views: dict[str, dict] = {}
    for kind, vid, *rest in events:
        view = views.setdefault(vid, readmodel.empty(vid, "volunteer"))
        if kind == "profile":
            readmodel.apply_profile(view, dict(rest[0]))
        elif kind == "opened":
            readmodel.task_opened(view, rest[0], rest[1], offered=True, now=NOW)
        elif kind == "accepted":
            readmodel.task_accepted(view, rest[0], rest[1], now=NOW)
        elif kind == "closed":
            readmodel.task_closed(view, rest[0], at=NOW)
        else:
            readmodel.rated(view, rest[0], rest[1], at=NOW)
    return views


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), shuffle_seed=st.integers(0, 10_000))
def test_the_read_model_is_the_same_after_a_replay_in_any_order_with_duplicates(seed, shuffle_seed):
    events = _events(6, seed)
    replayed = events + events[: len(events) // 2]
    random.Random(shuffle_seed).shuffle(replayed)
    first, second = _build(events), _build(replayed)
    assert first == second
    for vid in first:
        assert readmodel.to_candidate(first[vid]) == readmodel.to_candidate(second[vid])


def test_a_view_keeps_its_counts_but_not_its_history():
    """A year of tasks and ratings: the view holds the open tasks and the last week's, the counters all."""
    view = readmodel.empty("v", "volunteer")
    for day in range(365):
        now = NOW + timedelta(days=day)
        task, rating = f"t{day}", f"r{day}"
        readmodel.task_opened(view, task, now, offered=True, now=now)
        if day % 3:
            readmodel.task_accepted(view, task, now, now=now)
        if day < 360:  # the last five stay open
            readmodel.task_closed(view, task, at=now)
        readmodel.rated(view, rating, 4, at=now)
        readmodel.forget_before(view, now - readmodel.KEEP)
    assert len(view["tasks"]) <= 8 + 5 and len(view["rated"]) <= 8
    assert readmodel.open_task_ids(view) == sorted(f"t{day}" for day in range(360, 365))
    candidate = readmodel.to_candidate(view)
    assert (candidate.offers, candidate.accepted) == (365, sum(1 for day in range(365) if day % 3))
    assert (candidate.rating_count, candidate.rating_sum) == (365, 4.0 * 365)
    # A repeat within the week changes nothing; a replay of an offer from long ago opens nothing.
    readmodel.task_opened(
        view, "t364", NOW + timedelta(days=364), offered=True, now=NOW + timedelta(days=364)
    )
    readmodel.task_opened(view, "t1", NOW + timedelta(days=1), offered=True, now=NOW + timedelta(days=364))
    assert readmodel.to_candidate(view).offers == 365 and "t1" not in readmodel.open_task_ids(view)


def test_a_view_stored_with_id_sets_is_upgraded_to_counters():
    old = {
        "_id": "v",
        "kind": "volunteer",
        "profile_version": 1,
        "opened_task_ids": ["a", "b", "c"],
        "offered_task_ids": ["a", "b"],
        "accepted_task_ids": ["a", "c"],
        "closed_task_ids": ["a", "b"],
        "ratings": {"r1": 5, "r2": 3},
    }
    view = readmodel.upgrade(old, NOW)
    candidate = readmodel.to_candidate(view)
    assert candidate.open_task_ids == ["c"] and (candidate.offers, candidate.accepted) == (2, 1)
    assert (candidate.rating_sum, candidate.rating_count) == (8.0, 2)
    assert not any(name in view for name in readmodel.OLD_SETS)


def test_the_station_comes_before_the_rest_of_the_township():
    job = new_job(village="平湖村", station_id="s-pinghu", station="平湖镇平湖村新时代文明实践站")
    at_station = person("here", station_id="s-pinghu", open_task_ids=["t1"], capacity=2, last_offered_at=NOW)
    elsewhere = person("there", station_id="s-other")
    (event,) = domain.dispatch_next(job, [elsewhere, at_station], task_id="t", now=NOW)
    assert event.volunteer_id == "here" and job.attempts[0].considered[0]["proximity"] == "station"
    job_answers.declined(job, "t", "here", "no")
    (event,) = domain.dispatch_next(job, [elsewhere, at_station], task_id="t2", now=NOW)
    assert event.volunteer_id == "there" and event.level == "station"  # the station is exhausted


def test_stations_are_compared_by_id_never_by_name():
    """Issue 15 #9: the order names its village, the volunteer the station's full name; the ids match."""
    job = new_job(
        township="杉洋镇", village="下洋村", station_id="s-xiayang", station="杉洋镇下洋村新时代文明实践站"
    )
    own = person("z-own", township="杉洋镇", station_id="s-xiayang")
    other = person("a-other", township="杉洋镇", station_id="s-elsewhere")
    (event,) = domain.dispatch_next(job, [other, own], task_id="t", now=NOW)
    assert event.volunteer_id == "z-own" and job.attempts[0].considered[0]["proximity"] == "station"
    # Without a station id (an order from before, or a village with no station) nobody is "at the station".
    job = new_job(township="杉洋镇", village="s-xiayang")
    (event,) = domain.dispatch_next(job, [other, own], task_id="t", now=NOW)
    assert {c["proximity"] for c in job.attempts[0].considered} == {"township"}


def test_an_expired_offer_moves_on_and_is_never_offered_again():
    job = new_job()
    (first,) = domain.dispatch_next(job, [person("a"), person("b")], task_id="t1", now=NOW)
    assert not domain.expire(job, first.deadline - timedelta(seconds=1))
    assert domain.expire(job, first.deadline)
    assert not domain.expire(job, first.deadline), "a deadline fires once"
    (second,) = domain.dispatch_next(job, [person("a"), person("b")], task_id="t2", now=first.deadline)
    assert second.volunteer_id != first.volunteer_id and job.expired_by == [first.volunteer_id]
    assert second.deadline - second.offered_at == POLICY.offer_deadline("normal")


def test_a_late_yes_is_welcome_while_nobody_else_holds_the_request():
    job = new_job()
    (first,) = domain.dispatch_next(job, [person("a")], task_id="t1", now=NOW)
    assert domain.expire(job, first.deadline)
    domain.dispatch_next(job, [person("a")], task_id="t2", now=first.deadline)
    assert job.status == JobStatus.ESCALATED
    assert job_answers.accepted(job, "t1")
    assert job.status == JobStatus.ACCEPTED and job.attempts[0].reason == "accepted after the deadline"
    job = new_job()
    (first,) = domain.dispatch_next(job, [person("a"), person("b")], task_id="t1", now=NOW)
    domain.expire(job, first.deadline)
    domain.dispatch_next(job, [person("a"), person("b")], task_id="t2", now=first.deadline)
    assert not job_answers.accepted(job, "t1"), "the cascade moved on: the open offer to b stands"
