"""Use cases of one request's dispatch: open the job, decide offers, follow the answers, save it all."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.common import contracts
from services.common.auth import Principal
from services.common.domain import Missing
from services.common.events import Envelope, envelopes
from services.common.ids import new_id, utcnow
from services.common.store import AlreadyExists, ConcurrencyConflict, holding
from services.dispatch import metrics
from services.dispatch.candidates import usecases as candidates
from services.dispatch.jobs import answers, domain
from services.dispatch.jobs.domain import Job
from services.dispatch.jobs.models import job_from_document, job_to_document, jobs_store
from services.dispatch.policy.domain import Policy
from services.dispatch.policy.usecases import current_policy

PRODUCER = "dispatch"


class UnknownJob(Missing):
    """No dispatch job for that request."""


def _envelopes(job: Job, events: list[contracts.EventData], causation_id: str, now: datetime) -> list[dict]:
    return envelopes(
        events, producer=PRODUCER, correlation_id=job.id, causation_id=causation_id, occurred_at=now
    )


def save(job: Job, events: list[contracts.EventData], causation_id: str, now: datetime) -> None:
    """Store the job and the events its decision caused in one conditional update."""
    jobs_store.save(job.id, job.version, job_to_document(job), _envelopes(job, events, causation_id, now))


# --- jobs ------------------------------------------------------------------------------------------
def get_job(request_id: str) -> Job:
    """A stored job."""
    document = jobs_store.get(request_id)
    if document is None:
        raise UnknownJob("no dispatch record for that request")
    return job_from_document(document)


def covered_job(principal: Principal, request_id: str) -> Job:
    """A job the caller's township covers; others learn nothing of it (404)."""
    job = get_job(request_id)
    if not principal.covers_township(job.township):
        raise UnknownJob("no dispatch record for that request")
    return job


def next_offer(job: Job, policy: Policy, now: datetime) -> list[contracts.EventData]:
    """The engine's next step for the job: an offer along the cascade, or the pool and a dispatcher."""
    with metrics.timed():
        events = domain.dispatch_next(
            job, candidates.FreshCandidates(policy), task_id=new_id(), now=now, policy=policy
        )
    metrics.count(job.township, events)
    return events


def note_offers(events: list[contracts.EventData]) -> None:
    """Apply our own offers to the read-model now (the task.offered handler does the same, idempotently)."""
    for event in events:
        if isinstance(event, contracts.TaskOffered):
            candidates.task_opened(event)


def close_attempt(attempt: domain.Attempt) -> None:
    """The attempt's task no longer counts against its candidate's load."""
    candidates.task_closed(attempt.task_id, volunteer_id=attempt.volunteer_id, team_id=attempt.team_id)


# --- request events --------------------------------------------------------------------------------
def on_request_submitted(envelope: Envelope, data: contracts.RequestSubmitted) -> None:
    """Open a job for the request: hold it for review, wait for the batch, or make the first offer."""
    if jobs_store.get(data.request_id) is not None:
        return  # redelivered, or cancelled before it arrived
    policy = current_policy()
    now = utcnow()
    job = domain.job_from_submission(data, policy)
    events: list[contracts.EventData] = []
    if job.status == domain.JobStatus.IN_REVIEW:
        events = [
            contracts.RequestReviewed(
                request_id=job.id,
                decision="pending",
                reason="this category is reviewed before dispatch",
                reviewer_id="dispatch",
                township=job.township,
                category=job.category,
            )
        ]
    elif policy.batch_window_seconds > 0 and job.source != "wish":
        job.status = domain.JobStatus.WAITING
    else:
        events = next_offer(job, policy, now)
    try:
        jobs_store.insert(job.id, job_to_document(job), _envelopes(job, events, envelope.id, now))
    except AlreadyExists:
        return
    note_offers(events)


def _request_id(_envelope: Envelope, data: Any) -> str:
    return data.request_id


@holding(jobs_store, _request_id)
def on_request_cancelled(envelope: Envelope, data: contracts.RequestCancelled) -> None:
    """Close the job and release the volunteers it held."""
    document = jobs_store.get(data.request_id)
    if document is None:
        placeholder = domain.cancelled_placeholder(data)
        try:
            jobs_store.insert(placeholder.id, job_to_document(placeholder), [])
        except AlreadyExists:
            raise ConcurrencyConflict("the job appeared while the cancellation was handled") from None
        return
    job = job_from_document(document)
    withdrawn = answers.cancelled(job)
    if job.status == domain.JobStatus.CANCELLED and (withdrawn or document["status"] != "cancelled"):
        jobs_store.save(job.id, job.version, job_to_document(job), [])
    for attempt in withdrawn:
        close_attempt(attempt)


# --- task events -----------------------------------------------------------------------------------
def continue_after_no(job: Job, attempt: domain.Attempt, causation_id: str, now: datetime) -> list:
    """After a decline or expiry: a hand-picked offer goes back to a dispatcher, else the cascade goes on."""
    events = domain.after_no(job, attempt, now) or next_offer(job, current_policy(), now)
    save(job, events, causation_id, now)
    return events


@holding(jobs_store, _request_id)
def on_task_declined(envelope: Envelope, data: contracts.TaskDeclined) -> None:
    """Record the decline and offer the request to the next candidate (or pool and escalate)."""
    job = get_job(data.request_id)
    events: list[contracts.EventData] = []
    attempt = job.attempt(data.task_id)
    if attempt is not None and answers.declined(job, data.task_id, data.volunteer_id, data.reason):
        events = continue_after_no(job, attempt, envelope.id, utcnow())
    candidates.task_closed(
        data.task_id,
        volunteer_id=None if data.team_id else data.volunteer_id,
        team_id=data.team_id,
        at=data.declined_at,
    )
    note_offers(events)


@holding(jobs_store, _request_id)
def on_task_accepted(envelope: Envelope, data: contracts.TaskAccepted) -> None:
    """Record the acceptance (or a claim from the pool); count it in the acceptance history."""
    job = get_job(data.request_id)
    before = {a.task_id: a.status for a in job.attempts}
    if answers.accepted(job, data.task_id, volunteer_id=data.volunteer_id, now=data.accepted_at):
        jobs_store.save(job.id, job.version, job_to_document(job), [])
        for attempt in job.attempts:
            if before.get(attempt.task_id) == domain.AttemptStatus.OFFERED and attempt.status == "withdrawn":
                close_attempt(attempt)
    candidates.task_accepted(data.volunteer_id, data.team_id, data.task_id, data.accepted_at)


@holding(jobs_store, _request_id)
def on_task_checked_in(envelope: Envelope, data: contracts.TaskCheckedIn) -> None:
    """Record that the service started."""
    job = get_job(data.request_id)
    if answers.checked_in(job, data.task_id):
        jobs_store.save(job.id, job.version, job_to_document(job), [])


@holding(jobs_store, _request_id)
def on_task_completed(envelope: Envelope, data: contracts.TaskCompleted) -> None:
    """Record the completion and free the volunteer (and team)."""
    job = get_job(data.request_id)
    if answers.completed(job, data.task_id):
        jobs_store.save(job.id, job.version, job_to_document(job), [])
    # Every holder named: closing a task a view never opened changes nothing it counts.
    candidates.task_closed(
        data.task_id, volunteer_id=data.volunteer_id, team_id=data.team_id, at=data.completed_at
    )
