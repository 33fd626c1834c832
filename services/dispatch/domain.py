"""Rules of the dispatching stage (派单): who is offered a request, and what happens next.

Pure: no I/O. The first rule of the loop: offer to an active volunteer whose skills cover the
request and who has room for another task, same township first; never to someone who declined
this request; when nobody is left, escalate to a dispatcher.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from services.common import contracts


class JobStatus(enum.StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    IN_SERVICE = "in_service"
    COMPLETED = "completed"
    ESCALATED = "escalated"
    CANCELLED = "cancelled"


class AttemptStatus(enum.StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


# How long an offer waits for an answer, by urgency.
OFFER_DEADLINES = {
    "urgent": timedelta(minutes=30),
    "high": timedelta(hours=1),
    "normal": timedelta(hours=2),
    "low": timedelta(hours=8),
}
CLOSED = frozenset({JobStatus.COMPLETED, JobStatus.CANCELLED})


@dataclass
class Candidate:
    """Dispatch's view of a volunteer, built only from volunteer and task events."""

    id: str
    township: str
    skills: list[str]
    active: bool = True
    capacity: int = 2
    open_task_ids: list[str] = field(default_factory=list)
    station: str | None = None
    last_offered_at: datetime | None = None

    @property
    def load(self) -> int:
        """Tasks offered to or held by the volunteer right now."""
        return len(self.open_task_ids)


@dataclass
class Attempt:
    """One offer of the request, with the candidates weighed for it."""

    task_id: str
    volunteer_id: str
    level: str
    offered_at: datetime
    deadline: datetime
    status: AttemptStatus = AttemptStatus.OFFERED
    reason: str | None = None
    considered: list[dict[str, Any]] = field(default_factory=list)


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
    escalation_reason: str | None = None
    version: int = 1

    def attempt(self, task_id: str) -> Attempt | None:
        """The attempt that made this task."""
        return next((a for a in self.attempts if a.task_id == task_id), None)

    @property
    def open_attempt(self) -> Attempt | None:
        """The offer still waiting for an answer, if any."""
        return next((a for a in self.attempts if a.status == AttemptStatus.OFFERED), None)


def job_from_submission(data: contracts.RequestSubmitted) -> Job:
    """A new dispatch job for a submitted request."""
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
def is_eligible(job: Job, candidate: Candidate) -> bool:
    """Active, skilled for the request, room for one more, and has not said no to it."""
    return (
        candidate.active
        and set(job.skills_required) <= set(candidate.skills)
        and candidate.load < candidate.capacity
        and candidate.id not in job.declined_by
        and all(a.volunteer_id != candidate.id for a in job.attempts)
    )


def rank(job: Job, candidate: Candidate) -> tuple[Any, ...]:
    """Sort key: same township first, then the least busy, then who waited longest, then id."""
    never = datetime.min.replace(tzinfo=job.submitted_at.tzinfo)
    return (
        candidate.township != job.township,
        candidate.load,
        candidate.last_offered_at or never,
        candidate.id,
    )


def choose(job: Job, candidates: list[Candidate]) -> tuple[Candidate | None, list[dict[str, Any]]]:
    """The best eligible candidate, and the record of everyone considered."""
    eligible = sorted((c for c in candidates if is_eligible(job, c)), key=lambda c: rank(job, c))
    considered = [
        {
            "volunteer_id": c.id,
            "same_township": c.township == job.township,
            "load": c.load,
            "capacity": c.capacity,
            "last_offered_at": c.last_offered_at,
        }
        for c in eligible[:10]
    ]
    return (eligible[0] if eligible else None), considered


def dispatch_next(
    job: Job, candidates: list[Candidate], *, task_id: str, now: datetime
) -> list[contracts.EventData]:
    """Offer the job to the next candidate, or escalate it when there is none."""
    if job.status in CLOSED or job.open_attempt is not None:
        return []
    chosen, considered = choose(job, candidates)
    if chosen is None:
        job.status = JobStatus.ESCALATED
        job.escalation_reason = (
            "everyone eligible declined" if job.declined_by else "no active volunteer has the skills and room"
        )
        return [
            contracts.RequestEscalated(
                request_id=job.id,
                township=job.township,
                category=job.category,
                reason=job.escalation_reason,
                level="county",
                escalated_at=now,
            )
        ]
    deadline = now + OFFER_DEADLINES.get(job.urgency, OFFER_DEADLINES["normal"])
    level = "township" if chosen.township == job.township else "county"
    job.attempts.append(Attempt(task_id, chosen.id, level, now, deadline, considered=considered))
    job.status = JobStatus.OFFERED
    window = contracts.TimeWindow.model_validate(job.window) if job.window else None
    return [
        contracts.TaskOffered(
            task_id=task_id,
            request_id=job.id,
            attempt=len(job.attempts),
            volunteer_id=chosen.id,
            level=level,
            deadline=deadline,
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
            offered_at=now,
        )
    ]


# --- answers from the volunteers -------------------------------------------------------------------
def declined(job: Job, task_id: str, volunteer_id: str, reason: str) -> bool:
    """Record a decline; True when the job needs a new offer."""
    attempt = job.attempt(task_id)
    if attempt is None or attempt.status != AttemptStatus.OFFERED:
        return False
    attempt.status = AttemptStatus.DECLINED
    attempt.reason = reason
    if volunteer_id not in job.declined_by:
        job.declined_by.append(volunteer_id)
    return job.status not in CLOSED


def accepted(job: Job, task_id: str) -> bool:
    """Record an acceptance; True when it changed the job."""
    attempt = job.attempt(task_id)
    if attempt is None or attempt.status != AttemptStatus.OFFERED or job.status in CLOSED:
        return False
    attempt.status = AttemptStatus.ACCEPTED
    job.status = JobStatus.ACCEPTED
    return True


def checked_in(job: Job, task_id: str) -> bool:
    """Record that the service started."""
    if job.attempt(task_id) is None or job.status != JobStatus.ACCEPTED:
        return False
    job.status = JobStatus.IN_SERVICE
    return True


def completed(job: Job, task_id: str) -> bool:
    """Record the completion (even if the acceptance has not arrived yet)."""
    attempt = job.attempt(task_id)
    if attempt is None or job.status in CLOSED:
        return False
    attempt.status = AttemptStatus.COMPLETED
    job.status = JobStatus.COMPLETED
    return True


def cancelled(job: Job) -> list[str]:
    """Close the job; return the task ids whose offers or work were taken back."""
    if job.status in CLOSED:
        return []
    job.status = JobStatus.CANCELLED
    withdrawn = []
    for attempt in job.attempts:
        if attempt.status in (AttemptStatus.OFFERED, AttemptStatus.ACCEPTED):
            attempt.status = AttemptStatus.WITHDRAWN
            withdrawn.append(attempt.task_id)
    return withdrawn
