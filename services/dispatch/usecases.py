"""The dispatching stage's use cases: keep the read-model, decide offers, save jobs with their events."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from services.common import contracts, locks
from services.common.domain import Missing
from services.common.events import Envelope, make_event
from services.common.ids import new_id, utcnow
from services.common.store import AlreadyExists, ConcurrencyConflict, holding
from services.dispatch import domain
from services.dispatch.domain import Candidate, Job
from services.dispatch.models import (
    JobDocument,
    VolunteerView,
    candidate_from_document,
    job_from_document,
    job_to_document,
    jobs_store,
)

PRODUCER = "dispatch"


class UnknownJob(Missing):
    """No dispatch job for that request."""


def _envelopes(job: Job, events: list[contracts.EventData], causation_id: str, now: datetime) -> list[dict]:
    return [
        make_event(e, producer=PRODUCER, correlation_id=job.id, causation_id=causation_id, occurred_at=now)
        for e in events
    ]


def get_job(request_id: str) -> Job:
    """A stored job."""
    document = jobs_store.get(request_id)
    if document is None:
        raise UnknownJob("no dispatch record for that request")
    return job_from_document(document)


def candidates_for(job: Job) -> list[Candidate]:
    """Active volunteers from the read-model: the request's township first, the county when it has none."""
    collection = VolunteerView._get_collection()
    local = [candidate_from_document(d) for d in collection.find({"active": True, "township": job.township})]
    if any(domain.is_eligible(job, candidate) for candidate in local):
        return local
    return [candidate_from_document(d) for d in collection.find({"active": True})]


def _offer(job: Job, causation_id: str) -> tuple[list[dict], list[contracts.EventData]]:
    now = utcnow()
    events = domain.dispatch_next(job, candidates_for(job), task_id=new_id(), now=now)
    return _envelopes(job, events, causation_id, now), events


def _note_offers(events: list[contracts.EventData]) -> None:
    # The same update the task.offered handler makes; applying it now keeps the next decision
    # from overloading this volunteer before the event comes back round.
    for event in events:
        if isinstance(event, contracts.TaskOffered) and event.volunteer_id:
            note_task_opened(event.volunteer_id, event.task_id, event.offered_at)


# --- request events --------------------------------------------------------------------------------
def on_request_submitted(envelope: Envelope, data: contracts.RequestSubmitted) -> None:
    """Open a job for the request and make the first offer."""
    if jobs_store.get(data.request_id) is not None:
        return  # redelivered, or cancelled before it arrived
    job = domain.job_from_submission(data)
    envelopes, events = _offer(job, envelope.id)
    try:
        jobs_store.insert(job.id, job_to_document(job), envelopes)
    except AlreadyExists:
        return
    _note_offers(events)


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
    if job.status in domain.CLOSED:
        return
    withdrawn = domain.cancelled(job)
    jobs_store.save(job.id, job.version, job_to_document(job), [])
    for attempt in job.attempts:
        if attempt.task_id in withdrawn:
            note_task_closed(attempt.volunteer_id, attempt.task_id)


# --- task events -----------------------------------------------------------------------------------
@holding(jobs_store, _request_id)
def on_task_declined(envelope: Envelope, data: contracts.TaskDeclined) -> None:
    """Record the decline and offer the request to the next candidate (or escalate)."""
    job = get_job(data.request_id)
    envelopes: list[dict] = []
    events: list[contracts.EventData] = []
    if domain.declined(job, data.task_id, data.volunteer_id, data.reason):
        envelopes, events = _offer(job, envelope.id)
        jobs_store.save(job.id, job.version, job_to_document(job), envelopes)
    note_task_closed(data.volunteer_id, data.task_id)
    _note_offers(events)


@holding(jobs_store, _request_id)
def on_task_accepted(envelope: Envelope, data: contracts.TaskAccepted) -> None:
    """Record the acceptance."""
    job = get_job(data.request_id)
    if domain.accepted(job, data.task_id):
        jobs_store.save(job.id, job.version, job_to_document(job), [])


@holding(jobs_store, _request_id)
def on_task_checked_in(envelope: Envelope, data: contracts.TaskCheckedIn) -> None:
    """Record that the service started."""
    job = get_job(data.request_id)
    if domain.checked_in(job, data.task_id):
        jobs_store.save(job.id, job.version, job_to_document(job), [])


@holding(jobs_store, _request_id)
def on_task_completed(envelope: Envelope, data: contracts.TaskCompleted) -> None:
    """Record the completion and free the volunteer."""
    job = get_job(data.request_id)
    if domain.completed(job, data.task_id):
        jobs_store.save(job.id, job.version, job_to_document(job), [])
    note_task_closed(data.volunteer_id, data.task_id)


def on_task_offered(envelope: Envelope, data: contracts.TaskOffered) -> None:
    """Count the offer against the volunteer's load (our own event, read back like anyone's)."""
    if data.volunteer_id:
        note_task_opened(data.volunteer_id, data.task_id, data.offered_at)


# --- the volunteer read-model ----------------------------------------------------------------------
def on_volunteer_snapshot(envelope: Envelope, data: contracts.VolunteerSnapshot) -> None:
    """Keep the newest profile of a volunteer; older or repeated snapshots change nothing."""
    profile = data.model_dump(exclude={"volunteer_id"})
    collection = VolunteerView._get_collection()
    with _view_locked(data.volunteer_id):
        result = collection.update_one(
            {"_id": data.volunteer_id, "profile_version": {"$lt": data.profile_version}}, {"$set": profile}
        )
        if result.matched_count:
            return
        # A duplicate key means we hold this version or a newer one already.
        with contextlib.suppress(DuplicateKeyError):
            collection.insert_one(
                {"_id": data.volunteer_id, **profile, "open_task_ids": [], "closed_task_ids": []}
            )


def _view_locked(volunteer_id: str) -> Any:
    return locks.locked(f"volunteer_view:{volunteer_id}")


def note_task_opened(volunteer_id: str, task_id: str, offered_at: datetime) -> None:
    """The task counts against the volunteer's load unless it closed already (events may cross)."""
    collection = VolunteerView._get_collection()
    with _view_locked(volunteer_id):
        collection.update_one(
            {"_id": volunteer_id, "closed_task_ids": {"$ne": task_id}},
            {"$addToSet": {"open_task_ids": task_id}},
        )
        collection.update_one(
            {
                "_id": volunteer_id,
                "$or": [{"last_offered_at": None}, {"last_offered_at": {"$lt": offered_at}}],
            },
            {"$set": {"last_offered_at": offered_at}},
        )


def note_task_closed(volunteer_id: str, task_id: str) -> None:
    """The task no longer counts against the volunteer's load."""
    with _view_locked(volunteer_id):
        VolunteerView._get_collection().update_one(
            {"_id": volunteer_id},
            {"$pull": {"open_task_ids": task_id}, "$addToSet": {"closed_task_ids": task_id}},
        )


def present_job(job: Job) -> dict[str, Any]:
    """The dispatch record of a request, with every attempt and the candidates weighed."""
    return {
        "request_id": job.id,
        "status": job.status.value,
        "category": job.category,
        "skills_required": job.skills_required,
        "township": job.township,
        "village": job.village,
        "urgency": job.urgency,
        "declined_by": job.declined_by,
        "escalation_reason": job.escalation_reason,
        "attempts": [
            {
                "attempt": number,
                "task_id": a.task_id,
                "volunteer_id": a.volunteer_id,
                "level": a.level,
                "status": a.status.value,
                "offered_at": a.offered_at,
                "deadline": a.deadline,
                "reason": a.reason,
                "considered": a.considered,
            }
            for number, a in enumerate(job.attempts, start=1)
        ],
    }


def volunteer_view(volunteer_id: str) -> dict[str, Any] | None:
    """The read-model entry of one volunteer, as dispatchers see it."""
    document = VolunteerView._get_collection().find_one({"_id": volunteer_id}, {"closed_task_ids": 0})
    if document is None:
        return None
    candidate = candidate_from_document(document)
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
        "profile_version": document.get("profile_version"),
    }


OTHER_DOCUMENTS = (VolunteerView,)
__all__ = ["JobDocument", "VolunteerView"]
