"""Rules of the dispatching stage (派单): the life of one request's dispatch.

Pure: no I/O. A job moves through review, offers along the cascade (engine/cascade.py), the claim
pool and the dispatchers' queue. Invariants the property tests hold it to: at most one open offer;
never an offer to an ineligible candidate; never a second offer to anyone already offered the
request (so never to someone who declined or let an offer expire); levels only go forward.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.common import contracts
from services.common.domain import StateConflict
from services.dispatch.engine import cascade
from services.dispatch.engine.eligibility import Candidate
from services.dispatch.engine.index import CandidateSource, NaiveScan
from services.dispatch.policy.domain import DEFAULT_POLICY, Policy


class JobStatus(enum.StrEnum):
    WAITING = "waiting"  # for the next joint (batch) decision
    IN_REVIEW = "in_review"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    IN_SERVICE = "in_service"
    COMPLETED = "completed"
    ESCALATED = "escalated"  # in a dispatcher's queue (and in the claim pool)
    POOLED = "pooled"  # in the claim pool only (micro-wishes)
    CANCELLED = "cancelled"
    REJECTED = "rejected"


class AttemptStatus(enum.StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


CLOSED = frozenset({JobStatus.COMPLETED, JobStatus.CANCELLED, JobStatus.REJECTED})
# Where a person (a dispatcher, or a volunteer claiming from the pool) takes over.
WITH_PEOPLE = frozenset({JobStatus.ESCALATED, JobStatus.POOLED})


class NotAssignable(StateConflict):
    """The request is not waiting for a dispatcher, or the candidate cannot take it."""


@dataclass
class Attempt:
    """One offer of the request, with the candidates weighed for it."""

    task_id: str
    volunteer_id: str | None
    level: str
    offered_at: datetime
    deadline: datetime | None
    status: AttemptStatus = AttemptStatus.OFFERED
    reason: str | None = None
    considered: list[dict[str, Any]] = field(default_factory=list)
    team_id: str | None = None
    excluded: dict[str, int] = field(default_factory=dict)
    by: str | None = None  # the dispatcher of a manual offer

    @property
    def candidate_id(self) -> str:
        """Who was offered: the volunteer or the team."""
        return self.team_id or self.volunteer_id or ""


@dataclass
class Job:
    """The dispatch of one request: its needs, its attempts, who declined."""

    id: str  # the request id
    resident_id: str
    category: str
    skills_required: list[str]
    township: str
    village: str
    title: str
    description: str
    submitted_at: datetime
    status: JobStatus = JobStatus.OFFERED
    urgency: str = "normal"
    address: str | None = None
    contact_phone_masked: str | None = None
    window: dict[str, Any] | None = None
    attempts: list[Attempt] = field(default_factory=list)
    declined_by: list[str] = field(default_factory=list)
    expired_by: list[str] = field(default_factory=list)
    escalation_reason: str | None = None
    source: str = "resident"
    # The station of the request's village, by id; None for orders placed before stations had ids.
    station_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    preassigned_volunteer_ids: list[str] = field(default_factory=list)
    needs_review: bool = False
    review: dict[str, Any] | None = None
    pooled_at: datetime | None = None
    next_deadline: datetime | None = None
    version: int = 1

    def attempt(self, task_id: str) -> Attempt | None:
        """The attempt that made this task."""
        return next((a for a in self.attempts if a.task_id == task_id), None)

    @property
    def open_attempt(self) -> Attempt | None:
        """The offer still waiting for an answer, if any."""
        return next((a for a in self.attempts if a.status == AttemptStatus.OFFERED), None)

    @property
    def tried(self) -> set[str]:
        """Everyone offered this request so far (they are never offered it again)."""
        return {a.candidate_id for a in self.attempts} | set(self.declined_by) | set(self.expired_by)

    def need(self, now: datetime) -> cascade.Need:
        """What the request asks of a candidate."""
        if self.window:
            start = as_datetime(self.window["start"])
            window: tuple[datetime, datetime | None] = (start, as_datetime(self.window["end"]))
        else:
            window = (now, None)
        point = (
            (self.latitude, self.longitude)
            if self.latitude is not None and self.longitude is not None
            else None
        )
        return cascade.Need(
            category=self.category,
            skills=list(self.skills_required),
            township=self.township,
            station_id=self.station_id,
            point=point,
            window=window,
            preassigned=list(self.preassigned_volunteer_ids),
        )


def as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def job_from_submission(data: contracts.RequestSubmitted, policy: Policy = DEFAULT_POLICY) -> Job:
    """A new dispatch job for a submitted request (held for review when policy says so)."""
    needs_review = policy.needs_review(data.category, data.needs_review)
    return Job(
        id=data.request_id,
        resident_id=data.resident_id,
        category=data.category,
        skills_required=list(data.skills_required),
        township=data.township,
        village=data.village,
        title=data.title,
        description=data.description,
        submitted_at=data.submitted_at,
        urgency=data.urgency,
        address=data.address,
        contact_phone_masked=data.contact_phone_masked,
        window=data.window.model_dump(mode="json") if data.window else None,
        source=data.source,
        station_id=data.station_id,
        latitude=data.latitude,
        longitude=data.longitude,
        preassigned_volunteer_ids=list(data.preassigned_volunteer_ids),
        needs_review=needs_review,
        status=JobStatus.IN_REVIEW if needs_review else JobStatus.OFFERED,
    )


def cancelled_placeholder(data: contracts.RequestCancelled) -> Job:
    """A job for a request whose cancellation arrived before its submission: it must never dispatch."""
    return Job(
        id=data.request_id,
        resident_id=data.resident_id,
        category=data.category,
        skills_required=[],
        township=data.township,
        village="",
        title="",
        description="",
        submitted_at=data.cancelled_at,
        status=JobStatus.CANCELLED,
    )


# --- choosing --------------------------------------------------------------------------------------
def _source(candidates: CandidateSource | list[Candidate]) -> CandidateSource:
    return NaiveScan(candidates) if isinstance(candidates, list) else candidates


def can_dispatch(job: Job) -> bool:
    """Whether the engine may make the next offer now."""
    return job.status in (JobStatus.OFFERED, JobStatus.WAITING) and job.open_attempt is None


def _offer_event(job: Job, attempt: Attempt) -> contracts.TaskOffered:
    window = contracts.TimeWindow.model_validate(job.window) if job.window else None
    return contracts.TaskOffered(
        task_id=attempt.task_id,
        request_id=job.id,
        attempt=len(job.attempts),
        volunteer_id=attempt.volunteer_id,
        team_id=attempt.team_id,
        level=attempt.level,
        deadline=attempt.deadline,
        resident_id=job.resident_id,
        category=job.category,
        township=job.township,
        village=job.village,
        title=job.title,
        description=job.description,
        urgency=job.urgency,
        window=window,
        address=job.address,
        contact_phone_masked=job.contact_phone_masked,
        offered_at=attempt.offered_at,
    )


def offer_to(
    job: Job, candidate: Candidate, level: str, *, task_id: str, now: datetime, policy: Policy, **extra: Any
) -> contracts.TaskOffered:
    """Record an offer to a candidate and the event that tells the volunteers stage."""
    deadline = now + policy.offer_deadline(job.urgency)
    attempt = Attempt(
        task_id,
        None if candidate.is_team else candidate.id,
        level,
        now,
        deadline,
        team_id=candidate.id if candidate.is_team else None,
        **extra,
    )
    job.attempts.append(attempt)
    job.status = JobStatus.OFFERED
    job.next_deadline = deadline
    return _offer_event(job, attempt)


def attempts_by_level(job: Job) -> dict[str, int]:
    """How many offers each level has had."""
    counts: dict[str, int] = {}
    for attempt in job.attempts:
        counts[attempt.level] = counts.get(attempt.level, 0) + 1
    return counts


def last_level(job: Job) -> str | None:
    """The furthest automatic level reached so far (the cascade never goes back)."""
    reached = [a.level for a in job.attempts if a.level in cascade.LEVELS]
    return max(reached, key=cascade.LEVELS.index) if reached else None


def dispatch_next(
    job: Job,
    candidates: CandidateSource | list[Candidate],
    *,
    task_id: str,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> list[contracts.EventData]:
    """Offer the job to the next candidate of the cascade, or open the pool and escalate."""
    if not can_dispatch(job):
        return []
    if job.source == "wish":
        return _pool(job, now, escalate=False, reason="micro-wishes are open for volunteers to claim")
    choice = cascade.choose(
        _source(candidates),
        job.need(now),
        attempts_by_level=attempts_by_level(job),
        last_level=last_level(job),
        tried=job.tried,
        policy=policy,
        now=now,
    )
    if choice.candidate is None:
        if job.declined_by or job.expired_by:
            reason = "everyone eligible declined or let the offer expire"
        else:
            reason = "no active volunteer or team has the skills, the time and room"
        return _pool(job, now, escalate=True, reason=reason)
    assert choice.level is not None
    return [
        offer_to(
            job,
            choice.candidate,
            choice.level,
            task_id=task_id,
            now=now,
            policy=policy,
            considered=choice.considered,
            excluded=choice.excluded,
        )
    ]


def _pool(job: Job, now: datetime, *, escalate: bool, reason: str) -> list[contracts.EventData]:
    job.status = JobStatus.ESCALATED if escalate else JobStatus.POOLED
    job.escalation_reason = reason
    job.next_deadline = None
    events: list[contracts.EventData] = []
    if job.pooled_at is None:
        job.pooled_at = now
        events.append(
            contracts.RequestPooled(
                request_id=job.id,
                category=job.category,
                skills_required=job.skills_required,
                township=job.township,
                village=job.village,
                title=job.title,
                urgency=job.urgency,
                pooled_at=now,
                resident_id=job.resident_id,
                description=job.description,
                address=job.address,
                contact_phone_masked=job.contact_phone_masked,
                window=contracts.TimeWindow.model_validate(job.window) if job.window else None,
            )
        )
    if escalate:
        events.append(
            contracts.RequestEscalated(
                request_id=job.id,
                township=job.township,
                category=job.category,
                reason=reason,
                level="county" if last_level(job) == "county" else "township",
                escalated_at=now,
            )
        )
    return events


def expire(job: Job, now: datetime) -> bool:
    """Let the open offer lapse if its deadline has passed; True when it did."""
    attempt = job.open_attempt
    if (
        attempt is None
        or attempt.deadline is None
        or as_datetime(attempt.deadline) > now
        or job.status in CLOSED
    ):
        return False
    attempt.status = AttemptStatus.EXPIRED
    attempt.reason = "no answer before the deadline"
    if attempt.candidate_id not in job.expired_by:
        job.expired_by.append(attempt.candidate_id)
    job.next_deadline = None
    return True


def after_no(job: Job, attempt: Attempt, now: datetime) -> list[contracts.EventData]:
    """After a decline or expiry of a hand-picked offer the request goes back to the dispatcher."""
    if attempt.level != "manual":
        return []
    job.status = JobStatus.ESCALATED
    job.escalation_reason = "the volunteer a dispatcher chose did not take it"
    return [
        contracts.RequestEscalated(
            request_id=job.id,
            township=job.township,
            category=job.category,
            reason=job.escalation_reason,
            level="manual",
            escalated_at=now,
        )
    ]
