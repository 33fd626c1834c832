"""Rules of the dispatching stage, with no servers; properties checked with hypothesis."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from services.common import contracts
from services.dispatch.engine.eligibility import Candidate
from services.dispatch.jobs import answers as job_answers
from services.dispatch.jobs import domain
from services.dispatch.jobs.domain import AttemptStatus, JobStatus
from tests import factories
from tests.factories import NOW


def new_job(**overrides):
    return domain.job_from_submission(factories.request_submitted(request_id="req-1", **overrides))


def volunteer(vid, township="平湖镇", skills=("elder_care",), **kwargs):
    return Candidate(id=vid, township=township, skills=list(skills), **kwargs)


def offer(job, candidates, n=1):
    return domain.dispatch_next(job, candidates, task_id=f"task-{n}", now=NOW)


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


def test_offers_to_a_volunteer_of_the_township_first():
    job = new_job()
    (event,) = offer(job, [volunteer("far", township="大桥镇"), volunteer("near"), team("squad")])
    assert isinstance(event, contracts.TaskOffered)
    assert event.volunteer_id == "near" and event.level == "station"
    assert job.attempts[0].considered[0]["volunteer_id"] == "near"
    assert job.attempts[0].considered[0]["parts"]["proximity"] == 0.6


def test_cascades_to_township_teams_then_county_teams():
    job = new_job()
    candidates = [
        volunteer("far", township="大桥镇"),
        team("county", townships=(), kind="county_corps"),
        team("squad"),
    ]
    (first,) = offer(job, candidates)
    assert first.team_id == "squad" and first.volunteer_id is None and first.level == "township"
    job_answers.declined(job, first.task_id, "leader", "busy")
    (second,) = offer(job, candidates, n=2)
    assert second.team_id == "county" and second.level == "county"


def test_skills_must_cover_the_request():
    job = new_job(category="legal_aid", skills_required=["legal"])
    (event,) = offer(job, [volunteer("carer"), volunteer("lawyer", skills=["legal"])])
    assert event.volunteer_id == "lawyer"


def test_inactive_and_full_volunteers_are_passed_over():
    job = new_job()
    candidates = [
        volunteer("resting", active=False),
        volunteer("busy", capacity=1, open_task_ids=["t9"]),
        volunteer("free"),
    ]
    (event,) = offer(job, candidates)
    assert event.volunteer_id == "free"


def test_less_load_wins_and_then_longer_idle_wins():
    job = new_job()
    (event,) = offer(job, [volunteer("loaded", open_task_ids=["t1"], capacity=2), volunteer("free")])
    assert event.volunteer_id == "free"
    job = new_job()
    idle = [
        volunteer("recent", last_offered_at=NOW),
        volunteer("waited", last_offered_at=NOW.replace(hour=1)),
    ]
    (event,) = offer(job, idle)
    assert event.volunteer_id == "waited"
    parts = {c["volunteer_id"]: c["parts"]["fairness"] for c in job.attempts[0].considered}
    assert parts["waited"] > parts["recent"] == 0.0


def test_decline_moves_to_the_next_and_never_back():
    job = new_job()
    candidates = [volunteer("a"), volunteer("b")]
    (first,) = offer(job, candidates)
    assert job_answers.declined(job, first.task_id, first.volunteer_id, "sick")
    (second,) = offer(job, candidates, n=2)
    assert second.volunteer_id != first.volunteer_id
    assert second.attempt == 2
    assert job_answers.declined(job, second.task_id, second.volunteer_id, "away")
    pooled, escalated = offer(job, candidates, n=3)
    assert isinstance(pooled, contracts.RequestPooled) and isinstance(escalated, contracts.RequestEscalated)
    assert job.status == JobStatus.ESCALATED
    assert "declined" in job.escalation_reason


def test_nobody_with_the_skills_escalates_at_once():
    job = new_job(category="legal_aid", skills_required=["legal"])
    events = offer(job, [volunteer("carer")])
    assert [type(e) for e in events] == [contracts.RequestPooled, contracts.RequestEscalated]


def test_no_second_offer_while_one_is_open():
    job = new_job()
    offer(job, [volunteer("a"), volunteer("b")])
    assert offer(job, [volunteer("a"), volunteer("b")], n=2) == []


def test_a_repeated_decline_changes_nothing():
    job = new_job()
    (first,) = offer(job, [volunteer("a"), volunteer("b")])
    assert job_answers.declined(job, first.task_id, "a", "sick")
    assert not job_answers.declined(job, first.task_id, "a", "sick")


def test_cancel_withdraws_open_attempts_and_stops_dispatch():
    job = new_job()
    (first,) = offer(job, [volunteer("a")])
    assert [a.task_id for a in job_answers.cancelled(job)] == [first.task_id]
    assert job.attempts[0].status == AttemptStatus.WITHDRAWN
    assert offer(job, [volunteer("b")], n=2) == []


def test_completion_before_acceptance_arrives_still_completes():
    job = new_job()
    (first,) = offer(job, [volunteer("a")])
    assert job_answers.completed(job, first.task_id)
    assert not job_answers.accepted(job, first.task_id)
    assert job.status == JobStatus.COMPLETED


# --- properties ------------------------------------------------------------------------------------
TOWNSHIPS = ["平湖镇", "大桥镇", "城东街道"]
SKILLS = ["elder_care", "legal", "repairs"]

candidate_strategy = st.builds(
    Candidate,
    id=st.text("abcdefgh", min_size=1, max_size=3),
    township=st.sampled_from(TOWNSHIPS),
    skills=st.lists(st.sampled_from(SKILLS), min_size=1, max_size=3, unique=True),
    active=st.booleans(),
    capacity=st.integers(0, 3),
    open_task_ids=st.lists(st.text("xyz", min_size=1, max_size=2), max_size=3, unique=True),
)


@settings(max_examples=200, deadline=None)
@given(
    candidates=st.lists(candidate_strategy, max_size=12, unique_by=lambda c: c.id),
    skills=st.lists(st.sampled_from(SKILLS), min_size=1, max_size=2, unique=True),
    township=st.sampled_from(TOWNSHIPS),
    answers=st.lists(st.sampled_from(["decline", "accept"]), max_size=15),
)
def test_dispatch_invariants(candidates, skills, township, answers):
    """Never ineligible, never two open offers, never back to a decliner, same township before others."""
    job = new_job(skills_required=skills, township=township)
    events = offer(job, candidates)
    for step, answer in enumerate(answers, start=2):
        open_attempt = job.open_attempt
        if open_attempt is None:
            break
        if answer == "accept":
            job_answers.accepted(job, open_attempt.task_id)
            break
        job_answers.declined(job, open_attempt.task_id, open_attempt.volunteer_id, "no")
        events += offer(job, candidates, n=step)

    by_id = {c.id: c for c in candidates}
    offered = [e for e in events if isinstance(e, contracts.TaskOffered)]
    assert sum(a.status == AttemptStatus.OFFERED for a in job.attempts) <= 1
    assert len({e.volunteer_id for e in offered}) == len(offered), "nobody is offered the same request twice"
    for e in offered:
        chosen = by_id[e.volunteer_id]
        assert chosen.active and set(skills) <= set(chosen.skills) and chosen.load < chosen.capacity
        if chosen.township != township:
            # a county-level offer only when no eligible volunteer of the township was left
            remaining_local = [
                c
                for c in candidates
                if c.township == township
                and c.active
                and set(skills) <= set(c.skills)
                and c.load < c.capacity
                and c.id not in {o.volunteer_id for o in offered if o.attempt < e.attempt}
            ]
            assert remaining_local == []
    escalations = [e for e in events if isinstance(e, contracts.RequestEscalated)]
    if escalations:
        assert events[-1] is escalations[0] and len(escalations) == 1
