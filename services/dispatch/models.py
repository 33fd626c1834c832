"""How the dispatching stage stores its jobs and its read-model of volunteers."""

from __future__ import annotations

from typing import Any

import mongoengine

from services.common.store import AggregateDocument, AggregateStore, to_state
from services.dispatch.domain import Attempt, AttemptStatus, Candidate, Job, JobStatus


class JobDocument(AggregateDocument):
    """The dispatch of one request; `_id` is the request id."""

    meta = {"collection": "jobs", "indexes": [["status", "township"], "outbox_pending"]}

    id = mongoengine.StringField(primary_key=True)
    resident_id = mongoengine.StringField()
    category = mongoengine.StringField()
    skills_required = mongoengine.ListField(mongoengine.StringField())
    township = mongoengine.StringField()
    village = mongoengine.StringField()
    title = mongoengine.StringField()
    description = mongoengine.StringField()
    submitted_at = mongoengine.DateTimeField()
    status = mongoengine.StringField()
    urgency = mongoengine.StringField()
    address = mongoengine.StringField()
    contact_phone_masked = mongoengine.StringField()
    window = mongoengine.DictField()
    attempts = mongoengine.ListField(mongoengine.DictField())
    declined_by = mongoengine.ListField(mongoengine.StringField())
    escalation_reason = mongoengine.StringField()


class VolunteerView(mongoengine.Document):
    """Dispatch's read-model of a volunteer: the profile from volunteer events, the load from task events."""

    meta = {"collection": "volunteer_view", "indexes": [["active", "township"]]}

    id = mongoengine.StringField(primary_key=True)
    name = mongoengine.StringField()
    township = mongoengine.StringField()
    station = mongoengine.StringField()
    skills = mongoengine.ListField(mongoengine.StringField())
    team_ids = mongoengine.ListField(mongoengine.StringField())
    active = mongoengine.BooleanField()
    capacity = mongoengine.IntField()
    latitude = mongoengine.FloatField()
    longitude = mongoengine.FloatField()
    profile_version = mongoengine.IntField()
    # Task ids still open; closed ones are remembered so a late offer event cannot reopen them.
    open_task_ids = mongoengine.ListField(mongoengine.StringField())
    closed_task_ids = mongoengine.ListField(mongoengine.StringField())
    last_offered_at = mongoengine.DateTimeField()


jobs_store = AggregateStore(JobDocument)


def job_to_document(job: Job) -> dict[str, Any]:
    """The stored fields of a job."""
    state = to_state(job)
    state["attempts"] = [{**attempt, "status": str(attempt["status"])} for attempt in state["attempts"]]
    return state


def job_from_document(document: dict[str, Any]) -> Job:
    """A domain job from its stored document."""
    fields = {name: document.get(name) for name in Job.__dataclass_fields__ if name in document}
    fields["id"] = document["_id"]
    fields["status"] = JobStatus(document["status"])
    fields["attempts"] = [
        Attempt(**{**attempt, "status": AttemptStatus(attempt["status"])})
        for attempt in document.get("attempts", [])
    ]
    fields.pop("version", None)
    return Job(**fields, version=document.get("version", 1))


def candidate_from_document(document: dict[str, Any]) -> Candidate:
    """A candidate from the read-model."""
    return Candidate(
        id=document["_id"],
        township=document.get("township", ""),
        skills=document.get("skills", []),
        active=document.get("active", False),
        capacity=document.get("capacity", 0),
        open_task_ids=document.get("open_task_ids", []),
        station=document.get("station"),
        last_offered_at=document.get("last_offered_at"),
    )
