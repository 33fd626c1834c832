"""Answers from the volunteers to a dispatch (declines, acceptances, the work's progress), and its end.

Pure: no I/O; the rest of a job's rules are in jobs/domain.py.
"""

from __future__ import annotations

from datetime import datetime

from services.dispatch.jobs.domain import CLOSED, WITH_PEOPLE, Attempt, AttemptStatus, Job, JobStatus


def declined(job: Job, task_id: str, volunteer_id: str, reason: str) -> bool:
    """Record a decline; True when the job needs a new offer (or goes back to a dispatcher)."""
    attempt = job.attempt(task_id)
    if attempt is None or attempt.status != AttemptStatus.OFFERED:
        return False
    attempt.status = AttemptStatus.DECLINED
    attempt.reason = reason
    if attempt.candidate_id not in job.declined_by:
        job.declined_by.append(attempt.candidate_id)
    job.next_deadline = None
    return job.status not in CLOSED


def accepted(job: Job, task_id: str, *, volunteer_id: str | None = None, now: datetime | None = None) -> bool:
    """Record an acceptance (of an offer, or a claim from the pool); True when it changed the job."""
    attempt = job.attempt(task_id)
    if attempt is None and job.status in WITH_PEOPLE and volunteer_id and now is not None:
        # A claim from the pool: the volunteers stage decided the single winner.
        for other in job.attempts:
            if other.status == AttemptStatus.OFFERED:
                other.status = AttemptStatus.WITHDRAWN
                other.reason = "claimed from the pool by someone else"
        attempt = Attempt(task_id, volunteer_id, "pool", now, None)
        job.attempts.append(attempt)
    elif attempt is not None and attempt.status == AttemptStatus.EXPIRED and job.status in WITH_PEOPLE:
        # A yes that came after the deadline, while nobody else holds the request: still welcome
        # (the volunteers stage took the pool's single claim for it, so no claim can win as well).
        attempt.status = AttemptStatus.OFFERED
        attempt.reason = "accepted after the deadline"
    if attempt is None or attempt.status != AttemptStatus.OFFERED or job.status in CLOSED:
        return False
    attempt.status = AttemptStatus.ACCEPTED
    job.status = JobStatus.ACCEPTED
    job.next_deadline = None
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
    job.next_deadline = None
    return True


def cancelled(job: Job) -> list[Attempt]:
    """Close the job; return the attempts whose offers or work were taken back."""
    if job.status in CLOSED:
        return []
    job.status = JobStatus.CANCELLED
    job.next_deadline = None
    withdrawn = []
    for attempt in job.attempts:
        if attempt.status in (AttemptStatus.OFFERED, AttemptStatus.ACCEPTED):
            attempt.status = AttemptStatus.WITHDRAWN
            withdrawn.append(attempt)
    return withdrawn
