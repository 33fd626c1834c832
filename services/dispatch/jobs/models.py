"""How the dispatching stage stores its jobs: one document per request, outbox included."""

from __future__ import annotations

from typing import Any

import mongoengine

from services.common import personal
from services.common.store import AggregateDocument, AggregateStore, to_state
from services.dispatch.jobs.domain import Attempt, AttemptStatus, Job, JobStatus


class JobDocument(AggregateDocument):
    """The dispatch of one request; `_id` is the request id."""

    meta = {
        "collection": "jobs",
        "indexes": [["status", "township"], ["status", "next_deadline"], "outbox_pending"],
    }

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
    expired_by = mongoengine.ListField(mongoengine.StringField())
    escalation_reason = mongoengine.StringField()
    source = mongoengine.StringField()
    station_id = mongoengine.StringField()
    latitude = mongoengine.FloatField()
    longitude = mongoengine.FloatField()
    preassigned_volunteer_ids = mongoengine.ListField(mongoengine.StringField())
    needs_review = mongoengine.BooleanField()
    review = mongoengine.DictField()
    pooled_at = mongoengine.DateTimeField()
    next_deadline = mongoengine.DateTimeField()


jobs_store = AggregateStore(JobDocument)


def job_to_document(job: Job) -> dict[str, Any]:
    """The stored fields of a job."""
    state = to_state(job)
    state["attempts"] = [{**attempt, "status": str(attempt["status"])} for attempt in state["attempts"]]
    # Sealed at rest (docs/adr/0095): the resident's street address; the phone is kept masked only.
    state["address"] = personal.seal(job.address)
    return state


def job_from_document(document: dict[str, Any]) -> Job:
    """A domain job from its stored document."""
    fields = {name: document.get(name) for name in Job.__dataclass_fields__ if name in document}
    fields["id"] = document["_id"]
    if "address" in fields:
        fields["address"] = personal.unseal(fields["address"])
    fields["status"] = JobStatus(document["status"])
    fields["attempts"] = [
        Attempt(**{**attempt, "status": AttemptStatus(attempt["status"])})
        for attempt in document.get("attempts", [])
    ]
    fields.pop("version", None)
    return Job(**fields, version=document.get("version", 1))
