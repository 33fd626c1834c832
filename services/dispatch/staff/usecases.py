"""What dispatchers do: their queue, assigning by hand, reviewing; and how a dispatch explains itself."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING

from services.common import contracts
from services.common.domain import DomainError
from services.common.ids import new_id, utcnow
from services.common.store import holding
from services.dispatch import people, usecases, views
from services.dispatch.domain import Job, JobStatus
from services.dispatch.models import JobDocument, job_from_document, job_to_document, jobs_store

QUEUE_STATUSES = (JobStatus.ESCALATED.value, JobStatus.IN_REVIEW.value)


def queue(township: str | None, limit: int) -> list[dict[str, Any]]:
    """Requests waiting for a person: to be assigned by hand, or to be reviewed; oldest first."""
    query: dict[str, Any] = {"status": {"$in": list(QUEUE_STATUSES)}}
    if township:
        query["township"] = township
    cursor = JobDocument._get_collection().find(query, {"outbox": 0}).sort([("submitted_at", ASCENDING)])
    return [present_summary(job_from_document(d)) for d in cursor.limit(limit)]


@holding(jobs_store, lambda request_id, *_args, **_kwargs: request_id)
def assign(request_id: str, candidate_id: str, dispatcher: str, causation_id: str) -> Job:
    """A dispatcher offers an escalated request to a volunteer or team of their choosing."""
    job = usecases.get_job(request_id)
    policy = usecases.current_policy()
    candidate = views.candidate(candidate_id, policy)
    if candidate is None:
        raise DomainError("dispatch knows no volunteer or team with that id", field="volunteer_id")
    now = utcnow()
    event = people.assign_by_hand(
        job, candidate, dispatcher=dispatcher, task_id=new_id(), now=now, policy=policy
    )
    jobs_store.save(
        job.id, job.version, job_to_document(job), usecases.envelopes_for(job, [event], causation_id, now)
    )
    usecases.note_offers([event])
    return job


@holding(jobs_store, lambda request_id, *_args, **_kwargs: request_id)
def review(request_id: str, approve: bool, reason: str | None, reviewer: str, causation_id: str) -> Job:
    """Approve a held request (and dispatch it at once), or reject it with a reason the resident sees."""
    job = usecases.get_job(request_id)
    now = utcnow()
    events: list[contracts.EventData] = [
        people.review(job, approve=approve, reason=reason, reviewer=reviewer, now=now)
    ]
    if approve:
        events += usecases.next_offer(job, usecases.current_policy(), now)
    jobs_store.save(
        job.id, job.version, job_to_document(job), usecases.envelopes_for(job, events, causation_id, now)
    )
    usecases.note_offers(events)
    return job


def present_summary(job: Job) -> dict[str, Any]:
    """A queue entry."""
    return {
        "request_id": job.id,
        "status": job.status.value,
        "waiting_for": "review" if job.status == JobStatus.IN_REVIEW else "assignment",
        "category": job.category,
        "township": job.township,
        "village": job.village,
        "title": job.title,
        "urgency": job.urgency,
        "submitted_at": job.submitted_at,
        "escalation_reason": job.escalation_reason,
        "pooled": job.pooled_at is not None,
        "attempts": len(job.attempts),
        "declined_by": job.declined_by,
        "expired_by": job.expired_by,
    }


def present_job(job: Job) -> dict[str, Any]:
    """The dispatch record of a request, with every attempt, the candidates weighed and their scores."""
    return {
        **present_summary(job),
        "skills_required": job.skills_required,
        "source": job.source,
        "station": job.station,
        "preassigned_volunteer_ids": job.preassigned_volunteer_ids,
        "review": job.review,
        "pooled_at": job.pooled_at,
        "next_deadline": job.next_deadline,
        "attempts": [
            {
                "attempt": number,
                "task_id": a.task_id,
                "volunteer_id": a.volunteer_id,
                "team_id": a.team_id,
                "level": a.level,
                "status": a.status.value,
                "offered_at": a.offered_at,
                "deadline": a.deadline,
                "reason": a.reason,
                "by": a.by,
                "considered": a.considered,
                "excluded": a.excluded,
            }
            for number, a in enumerate(job.attempts, start=1)
        ],
    }


__all__ = ["assign", "present_job", "queue", "review"]
