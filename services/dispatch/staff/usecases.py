"""What dispatchers do: their queue, assigning by hand, reviewing requests held for review."""

from __future__ import annotations

from services.common import contracts
from services.common.domain import DomainError
from services.common.ids import new_id, utcnow
from services.common.store import holding
from services.dispatch.candidates import usecases as candidates
from services.dispatch.jobs import usecases as jobs
from services.dispatch.jobs.domain import Job
from services.dispatch.jobs.models import job_from_document, jobs_store
from services.dispatch.policy.usecases import current_policy
from services.dispatch.staff import domain


def queue(township: str | None, limit: int) -> list[Job]:
    """Requests waiting for a person: to be assigned by hand, or to be reviewed; oldest first.

    `in_queue` is kept on each job as its status changes, so the queue is what that flag selects.
    """
    waiting = (
        jobs_store.find(in_queue=True, township=township) if township else jobs_store.find(in_queue=True)
    )
    waiting.sort(key=lambda document: (document["submitted_at"], document["_id"]))
    return [job_from_document(document) for document in waiting[:limit]]


@holding(jobs_store, lambda request_id, *_args, **_kwargs: request_id)
def assign(request_id: str, candidate_id: str, dispatcher: str, causation_id: str) -> Job:
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
    jobs.save(job, [event], causation_id, now)
    jobs.note_offers([event])
    return job


@holding(jobs_store, lambda request_id, *_args, **_kwargs: request_id)
def review(request_id: str, approve: bool, reason: str | None, reviewer: str, causation_id: str) -> Job:
    """Approve a held request (and dispatch it at once), or reject it with a reason the resident sees."""
    job = jobs.get_job(request_id)
    now = utcnow()
    events: list[contracts.EventData] = [
        domain.review(job, approve=approve, reason=reason, reviewer=reviewer, now=now)
    ]
    if approve:
        events += jobs.next_offer(job, current_policy(), now)
    jobs.save(job, events, causation_id, now)
    jobs.note_offers(events)
    return job
