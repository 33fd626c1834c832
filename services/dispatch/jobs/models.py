"""How the dispatching stage stores its jobs and its read-model of volunteers."""

from __future__ import annotations

from typing import Any

import mongoengine

from services.common.store import AggregateDocument, AggregateStore, to_state
from services.dispatch.domain import Attempt, AttemptStatus, Job, JobStatus


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
    station = mongoengine.StringField()
    latitude = mongoengine.FloatField()
    longitude = mongoengine.FloatField()
    preassigned_volunteer_ids = mongoengine.ListField(mongoengine.StringField())
    needs_review = mongoengine.BooleanField()
    review = mongoengine.DictField()
    pooled_at = mongoengine.DateTimeField()
    next_deadline = mongoengine.DateTimeField()


class VolunteerView(mongoengine.Document):
    """Dispatch's read-model of a volunteer (readmodel.py): profile and load, from events only."""

    meta = {"collection": "volunteer_view", "indexes": [["active", "township"]], "strict": False}

    id = mongoengine.StringField(primary_key=True)
    kind = mongoengine.StringField()
    name = mongoengine.StringField()
    township = mongoengine.StringField()
    station = mongoengine.StringField()
    skills = mongoengine.ListField(mongoengine.StringField())
    team_ids = mongoengine.ListField(mongoengine.StringField())
    active = mongoengine.BooleanField()
    capacity = mongoengine.IntField()
    latitude = mongoengine.FloatField()
    longitude = mongoengine.FloatField()
    weekly_availability = mongoengine.ListField(mongoengine.DictField())
    availability_exceptions = mongoengine.ListField(mongoengine.DictField())
    profile_version = mongoengine.IntField()
    opened_task_ids = mongoengine.ListField(mongoengine.StringField())
    offered_task_ids = mongoengine.ListField(mongoengine.StringField())
    accepted_task_ids = mongoengine.ListField(mongoengine.StringField())
    closed_task_ids = mongoengine.ListField(mongoengine.StringField())
    ratings = mongoengine.DictField()
    last_offered_at = mongoengine.DateTimeField()

    @property
    def open_task_ids(self) -> list[str]:
        """Tasks that count against the load now."""
        closed = set(self.closed_task_ids)
        return [t for t in self.opened_task_ids if t not in closed]


class TeamView(mongoengine.Document):
    """Dispatch's read-model of a team: coverage from team events, load from task events."""

    meta = {"collection": "team_view", "strict": False}

    id = mongoengine.StringField(primary_key=True)
    kind = mongoengine.StringField()
    name = mongoengine.StringField()
    team_kind = mongoengine.StringField()
    townships = mongoengine.ListField(mongoengine.StringField())
    categories = mongoengine.ListField(mongoengine.StringField())
    leader_id = mongoengine.StringField()
    member_ids = mongoengine.ListField(mongoengine.StringField())
    active = mongoengine.BooleanField()
    profile_version = mongoengine.IntField()
    opened_task_ids = mongoengine.ListField(mongoengine.StringField())
    offered_task_ids = mongoengine.ListField(mongoengine.StringField())
    accepted_task_ids = mongoengine.ListField(mongoengine.StringField())
    closed_task_ids = mongoengine.ListField(mongoengine.StringField())
    ratings = mongoengine.DictField()
    last_offered_at = mongoengine.DateTimeField()


class PolicyDocument(mongoengine.Document):
    """The dispatch policy in force (one document, `_id` "current")."""

    meta = {"collection": "policy"}

    id = mongoengine.StringField(primary_key=True)
    policy = mongoengine.DictField()
    version = mongoengine.IntField()
    updated_by = mongoengine.StringField()
    updated_at = mongoengine.DateTimeField()


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
