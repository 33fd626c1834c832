"""The dispatching stage's event use cases: keep the read-model, decide offers, save jobs and events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.common import contracts, locks
from services.common.domain import Missing
from services.common.events import Envelope, make_event
from services.common.ids import new_id, utcnow
from services.common.store import AlreadyExists, ConcurrencyConflict, holding
from services.dispatch import domain, metrics, readmodel, views
from services.dispatch.domain import Job
from services.dispatch.models import (
    JobDocument,
    PolicyDocument,
    TeamView,
    VolunteerView,
    job_from_document,
    job_to_document,
    jobs_store,
)
from services.dispatch.policy import DEFAULT_POLICY, Policy

PRODUCER = "dispatch"
POLICY_ID = "current"


class UnknownJob(Missing):
    """No dispatch job for that request."""


def envelopes_for(
    job: Job, events: list[contracts.EventData], causation_id: str, now: datetime
) -> list[dict]:
    """The envelopes of a job's events, correlated by the request id."""
    return [
        make_event(e, producer=PRODUCER, correlation_id=job.id, causation_id=causation_id, occurred_at=now)
        for e in events
    ]


# --- policy ----------------------------------------------------------------------------------------
def policy_record() -> tuple[Policy, int, dict[str, Any]]:
    """The policy in force, its version and who changed it last."""
    document = PolicyDocument._get_collection().find_one({"_id": POLICY_ID})
    if document is None:
        return DEFAULT_POLICY, 0, {}
    meta = {"updated_by": document.get("updated_by"), "updated_at": document.get("updated_at")}
    return Policy.model_validate(document["policy"]), document.get("version", 1), meta


def current_policy() -> Policy:
    """The policy in force, read for every decision: a change applies from the very next one."""
    return policy_record()[0]


def save_policy(policy: Policy, by: str, expected_version: int | None) -> int:
    """Replace the policy (optionally only if still at `expected_version`); return the new version."""
    collection = PolicyDocument._get_collection()
    with locks.locked(f"policy:{POLICY_ID}"):
        _, version, _ = policy_record()
        if expected_version is not None and expected_version != version:
            raise ConcurrencyConflict(f"the policy is at version {version}, not {expected_version}")
        document = {
            "policy": policy.model_dump(),
            "version": version + 1,
            "updated_by": by,
            "updated_at": utcnow(),
        }
        collection.replace_one({"_id": POLICY_ID}, {"_id": POLICY_ID, **document}, upsert=True)
    return version + 1


# --- jobs ------------------------------------------------------------------------------------------
def get_job(request_id: str) -> Job:
    """A stored job."""
    document = jobs_store.get(request_id)
    if document is None:
        raise UnknownJob("no dispatch record for that request")
    return job_from_document(document)


def next_offer(job: Job, policy: Policy, now: datetime) -> list[contracts.EventData]:
    """The engine's next step for the job: an offer along the cascade, or the pool and a dispatcher."""
    with metrics.timed():
        events = domain.dispatch_next(
            job, views.FreshCandidates(policy), task_id=new_id(), now=now, policy=policy
        )
    metrics.count(job.township, events)
    return events


def note_offers(events: list[contracts.EventData]) -> None:
    """Apply our own offers to the read-model now (the task.offered handler does the same, idempotently)."""
    for event in events:
        if isinstance(event, contracts.TaskOffered):
            _opened(event)


def _opened(event: contracts.TaskOffered) -> None:
    kind, view_id = ("team", event.team_id) if event.team_id else ("volunteer", event.volunteer_id)
    if view_id:
        views.change(
            kind, view_id, lambda v: readmodel.task_opened(v, event.task_id, event.offered_at, offered=True)
        )


def close_attempt(attempt: domain.Attempt) -> None:
    """The attempt's task no longer counts against its candidate's load."""
    kind, view_id = ("team", attempt.team_id) if attempt.team_id else ("volunteer", attempt.volunteer_id)
    if view_id:
        views.change(kind, view_id, lambda v: readmodel.task_closed(v, attempt.task_id))


def _close_task(volunteer_id: str | None, team_id: str | None, task_id: str) -> None:
    for kind, view_id in (("volunteer", volunteer_id), ("team", team_id)):
        if view_id:
            views.change(kind, view_id, lambda v: readmodel.task_closed(v, task_id))


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
        jobs_store.insert(job.id, job_to_document(job), envelopes_for(job, events, envelope.id, now))
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
    withdrawn = domain.cancelled(job)
    if job.status == domain.JobStatus.CANCELLED and (withdrawn or document["status"] != "cancelled"):
        jobs_store.save(job.id, job.version, job_to_document(job), [])
    for attempt in withdrawn:
        close_attempt(attempt)


# --- task events -----------------------------------------------------------------------------------
def continue_after_no(job: Job, attempt: domain.Attempt, causation_id: str, now: datetime) -> list:
    """After a decline or expiry: a hand-picked offer goes back to a dispatcher, else the cascade goes on."""
    events = domain.after_no(job, attempt, now) or next_offer(job, current_policy(), now)
    envelopes = envelopes_for(job, events, causation_id, now)
    jobs_store.save(job.id, job.version, job_to_document(job), envelopes)
    return events


@holding(jobs_store, _request_id)
def on_task_declined(envelope: Envelope, data: contracts.TaskDeclined) -> None:
    """Record the decline and offer the request to the next candidate (or pool and escalate)."""
    job = get_job(data.request_id)
    events: list[contracts.EventData] = []
    attempt = job.attempt(data.task_id)
    if attempt is not None and domain.declined(job, data.task_id, data.volunteer_id, data.reason):
        events = continue_after_no(job, attempt, envelope.id, utcnow())
    _close_task(data.volunteer_id if not data.team_id else None, data.team_id, data.task_id)
    note_offers(events)


@holding(jobs_store, _request_id)
def on_task_accepted(envelope: Envelope, data: contracts.TaskAccepted) -> None:
    """Record the acceptance (or a claim from the pool); count it in the acceptance history."""
    job = get_job(data.request_id)
    before = {a.task_id: a.status for a in job.attempts}
    if domain.accepted(job, data.task_id, volunteer_id=data.volunteer_id, now=data.accepted_at):
        jobs_store.save(job.id, job.version, job_to_document(job), [])
        for attempt in job.attempts:
            if before.get(attempt.task_id) == domain.AttemptStatus.OFFERED and attempt.status == "withdrawn":
                close_attempt(attempt)
    kind, view_id = ("team", data.team_id) if data.team_id else ("volunteer", data.volunteer_id)
    views.change(kind, view_id, lambda v: readmodel.task_accepted(v, data.task_id, data.accepted_at))


@holding(jobs_store, _request_id)
def on_task_checked_in(envelope: Envelope, data: contracts.TaskCheckedIn) -> None:
    """Record that the service started."""
    job = get_job(data.request_id)
    if domain.checked_in(job, data.task_id):
        jobs_store.save(job.id, job.version, job_to_document(job), [])


@holding(jobs_store, _request_id)
def on_task_completed(envelope: Envelope, data: contracts.TaskCompleted) -> None:
    """Record the completion and free the volunteer (and team)."""
    job = get_job(data.request_id)
    if domain.completed(job, data.task_id):
        jobs_store.save(job.id, job.version, job_to_document(job), [])
    _close_task(data.volunteer_id, data.team_id, data.task_id)


def on_task_offered(envelope: Envelope, data: contracts.TaskOffered) -> None:
    """Count the offer against the candidate's load (our own event, read back like anyone's)."""
    _opened(data)


# --- the volunteer and team read-model -------------------------------------------------------------
def on_volunteer_snapshot(envelope: Envelope, data: contracts.VolunteerSnapshot) -> None:
    """Keep the newest profile of a volunteer; older or repeated snapshots change nothing."""
    profile = data.model_dump(mode="python", exclude={"volunteer_id"})
    views.change("volunteer", data.volunteer_id, lambda v: readmodel.apply_profile(v, profile))


def on_team_updated(envelope: Envelope, data: contracts.TeamUpdated) -> None:
    """Keep the newest profile of a team."""
    profile = data.model_dump(exclude={"team_id", "kind"})
    profile["team_kind"] = data.kind
    views.change("team", data.team_id, lambda v: readmodel.apply_profile(v, profile))


def on_request_rated(envelope: Envelope, data: contracts.RequestRated) -> None:
    """A rating feeds the reputation of the volunteer (and team) who served."""
    for kind, view_id in (("volunteer", data.volunteer_id), ("team", data.team_id)):
        if view_id:
            views.change(kind, view_id, lambda v: readmodel.rated(v, data.rating_id, data.score))


def volunteer_view(volunteer_id: str) -> dict[str, Any] | None:
    """The read-model entry of one volunteer, as dispatchers see it."""
    document = views.find("volunteer", volunteer_id)
    if document is None or document.get("profile_version", 0) == 0:
        return None
    candidate = readmodel.to_candidate(document)
    return {
        "volunteer_id": candidate.id,
        "name": document.get("name"),
        "township": candidate.township,
        "station": candidate.station,
        "skills": candidate.skills,
        "active": candidate.active,
        "capacity": candidate.capacity,
        "load": candidate.load,
        "open_task_ids": candidate.open_task_ids,
        "last_offered_at": candidate.last_offered_at,
        "offers": candidate.offers,
        "accepted": candidate.accepted,
        "ratings": candidate.rating_count,
        "weekly_availability": candidate.weekly,
        "availability_exceptions": candidate.exceptions,
        "profile_version": document.get("profile_version"),
    }


OTHER_DOCUMENTS = (VolunteerView, TeamView, PolicyDocument)
__all__ = ["JobDocument", "VolunteerView"]
