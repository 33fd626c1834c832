"""HTTP parameters and views of a request's dispatch; they double as its OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.common.schemas import View
from services.dispatch.jobs.domain import Attempt, AttemptStatus, Job, JobStatus


class JobPath(BaseModel):
    request_id: str = Field(min_length=1, max_length=64)


class ScoreParts(View):
    """Each part of a score, in [0, 1], before the policy's weights."""

    proximity: float
    distance: float
    reputation: float
    load: float
    fairness: float
    acceptance: float


class ConsideredView(View):
    """A candidate weighed for an offer, and its score."""

    candidate_id: str
    kind: Literal["volunteer", "team"]
    volunteer_id: str | None
    team_id: str | None
    load: int
    capacity: int
    total: float = Field(description="the weighted sum of the parts")
    parts: ScoreParts
    proximity: Literal["station", "township", "county"]
    distance_km: float | None
    reputation_mean: float = Field(description="the Bayesian mean of the candidate's ratings")


class AttemptView(View):
    """One offer of the request: to whom, at which level, what became of it, and who else was weighed."""

    attempt: int = Field(description="1 for the first offer")
    task_id: str
    volunteer_id: str | None
    team_id: str | None
    level: str = Field(
        description="pairing, station, township, county; manual (a dispatcher) or pool (a claim)"
    )
    status: AttemptStatus
    offered_at: datetime
    deadline: datetime | None
    reason: str | None
    by: str | None = Field(description="the dispatcher of a manual offer, or batch")
    considered: list[ConsideredView]
    excluded: dict[str, int] = Field(description="how many candidates were out, by level and reason")


class ReviewRecordView(View):
    """A dispatcher's decision on a request held for review."""

    decision: Literal["approved", "rejected"]
    reason: str | None
    by: str
    at: datetime


class _JobFacts(View):
    request_id: str
    status: JobStatus
    waiting_for: Literal["review", "assignment"] = Field(
        description="what a dispatcher would do for it: review it, or assign it by hand"
    )
    category: str
    township: str
    village: str
    title: str
    urgency: str
    submitted_at: datetime
    escalation_reason: str | None
    pooled: bool = Field(description="open in the claim pool")
    declined_by: list[str]
    expired_by: list[str]


class JobSummaryView(_JobFacts):
    """A request in a dispatcher's queue."""

    attempts: int = Field(description="offers made so far")


class JobView(_JobFacts):
    """The dispatch record of a request, with every attempt, the candidates weighed and their scores."""

    skills_required: list[str]
    source: str
    station_id: str | None
    preassigned_volunteer_ids: list[str]
    review: ReviewRecordView | None
    pooled_at: datetime | None
    next_deadline: datetime | None
    attempts: list[AttemptView]


def _facts(job: Job) -> dict[str, object]:
    return {
        "request_id": job.id,
        "status": job.status,
        "waiting_for": "review" if job.status == JobStatus.IN_REVIEW else "assignment",
        "category": job.category,
        "township": job.township,
        "village": job.village,
        "title": job.title,
        "urgency": job.urgency,
        "submitted_at": job.submitted_at,
        "escalation_reason": job.escalation_reason,
        "pooled": job.pooled_at is not None,
        "declined_by": job.declined_by,
        "expired_by": job.expired_by,
    }


def job_summary(job: Job) -> JobSummaryView:
    """A queue entry."""
    return JobSummaryView(**_facts(job), attempts=len(job.attempts))


def attempt_view(number: int, attempt: Attempt) -> AttemptView:
    """One attempt as the record shows it."""
    return AttemptView(
        attempt=number,
        task_id=attempt.task_id,
        volunteer_id=attempt.volunteer_id,
        team_id=attempt.team_id,
        level=attempt.level,
        status=attempt.status,
        offered_at=attempt.offered_at,
        deadline=attempt.deadline,
        reason=attempt.reason,
        by=attempt.by,
        considered=[ConsideredView.model_validate(record) for record in attempt.considered],
        excluded=attempt.excluded,
    )


def job_view(job: Job) -> JobView:
    """The whole dispatch record of a request."""
    return JobView(
        **_facts(job),
        skills_required=job.skills_required,
        source=job.source,
        station_id=job.station_id,
        preassigned_volunteer_ids=job.preassigned_volunteer_ids,
        review=ReviewRecordView.model_validate(job.review) if job.review else None,
        pooled_at=job.pooled_at,
        next_deadline=job.next_deadline,
        attempts=[attempt_view(number, a) for number, a in enumerate(job.attempts, start=1)],
    )
