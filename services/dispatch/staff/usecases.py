"""What dispatchers do: their queue, assigning by hand, reviewing requests held for review."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING

from services.common import audit, contracts
from services.common.domain import DomainError
from services.common.ids import new_id, utcnow
from services.common.store import holding
from services.dispatch.candidates import usecases as candidates
from services.dispatch.engine import cascade
from services.dispatch.jobs import usecases as jobs
from services.dispatch.jobs.domain import Job, JobStatus
from services.dispatch.jobs.models import JobDocument, job_from_document, jobs_store
from services.dispatch.policy.usecases import current_policy
from services.dispatch.staff import domain

QUEUE_STATUSES = (JobStatus.ESCALATED.value, JobStatus.IN_REVIEW.value)


def queue(township: str | None, limit: int) -> list[Job]:
    """Requests waiting for a person: to be assigned by hand, or to be reviewed; oldest first."""
    query: dict[str, Any] = {"status": {"$in": list(QUEUE_STATUSES)}}
    if township:
        query["township"] = township
    cursor = JobDocument._get_collection().find(query, {"outbox": 0}).sort([("submitted_at", ASCENDING)])
    return [job_from_document(d) for d in cursor.limit(limit)]


@holding(jobs_store, lambda request_id, *_args, **_kwargs: request_id)
def assign(
    request_id: str, candidate_id: str, dispatcher: str, causation_id: str, role: str = "dispatcher"
) -> Job:
    """A dispatcher offers an escalated request to a volunteer or team of their choosing."""
    job = jobs.get_job(request_id)
    policy = current_policy()
    candidate = candidates.candidate(candidate_id, policy)
    if candidate is None:
        raise DomainError("dispatch knows no volunteer or team with that id", field="volunteer_id")
    now = utcnow()
    event = domain.assign_by_hand(
        job, candidate, dispatcher=dispatcher, task_id=new_id(), now=now, policy=policy
    )
    trail = audit.entry(
        dispatcher,
        "dispatch.assigned_by_hand",
        "request",
        job.id,
        now,
        township=job.township,
        role=role,
        candidate_id=candidate_id,
        task_id=event.task_id,
    )
    jobs.save(job, [event, trail], causation_id, now)
    jobs.note_offers([event])
    return job


@holding(jobs_store, lambda request_id, *_args, **_kwargs: request_id)
def review(
    request_id: str,
    approve: bool,
    reason: str | None,
    reviewer: str,
    causation_id: str,
    role: str = "dispatcher",
) -> Job:
    """Approve a held request (and dispatch it at once), or reject it with a reason the resident sees."""
    job = jobs.get_job(request_id)
    now = utcnow()
    events: list[contracts.EventData] = [
        domain.review(job, approve=approve, reason=reason, reviewer=reviewer, now=now)
    ]
    events.append(
        audit.entry(
            reviewer,
            "dispatch.reviewed",
            "request",
            job.id,
            now,
            township=job.township,
            reason=reason,
            role=role,
            decision="approve" if approve else "reject",
        )
    )
    if approve:
        events += jobs.next_offer(job, current_policy(), now)
    jobs.save(job, events, causation_id, now)
    jobs.note_offers(events)
    return job


# The levels a dispatcher may pick from by hand: a pairing's volunteers are offered automatically.
HAND_LEVELS = ("station", "township", "county")


def candidates_for(job: Job, limit: int) -> list[tuple[str, dict[str, Any]]]:
    """Who could serve the request now, best first at each level, with each part of their score.

    Everyone eligible counts, those already offered it included (a dispatcher may ask again, e.g.
    after a phone call); the view marks who declined or let an offer lapse. Nothing is offered.
    """
    policy = current_policy()
    source = candidates.FreshCandidates(policy)
    now = utcnow()
    need = job.need(now)
    found: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    for level in HAND_LEVELS:
        ranked, _excluded = cascade.rank_level(source, need, level, set(), policy, now)
        for candidate, breakdown in ranked:
            if candidate.id not in seen:
                seen.add(candidate.id)
                found.append((level, cascade.record(candidate, breakdown)))
    return found[:limit]
