"""How tasks are stored: each with its outbox of lifecycle events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import mongoengine

from services.common import personal
from services.common.store import AggregateDocument, AggregateStore, from_state, to_state
from services.volunteers.tasks.domain import Task, TaskStatus


class TaskDocument(AggregateDocument):
    meta = {
        "collection": "tasks",
        "indexes": [["volunteer_id", "status", "-offered_at"], ["request_id", "attempt"], "outbox_pending"],
    }

    id = mongoengine.StringField(primary_key=True)
    request_id = mongoengine.StringField(required=True)
    attempt = mongoengine.IntField(required=True)
    level = mongoengine.StringField()
    status = mongoengine.StringField(required=True)
    volunteer_id = mongoengine.StringField()
    team_id = mongoengine.StringField()
    resident_id = mongoengine.StringField()
    category = mongoengine.StringField()
    township = mongoengine.StringField()
    village = mongoengine.StringField()
    title = mongoengine.StringField()
    description = mongoengine.StringField()
    urgency = mongoengine.StringField()
    address = mongoengine.StringField()
    contact_phone_masked = mongoengine.StringField()
    window_start = mongoengine.DateTimeField()
    window_end = mongoengine.DateTimeField()
    offered_at = mongoengine.DateTimeField()
    deadline = mongoengine.DateTimeField()
    accepted_at = mongoengine.DateTimeField()
    checked_in_at = mongoengine.DateTimeField()
    completed_at = mongoengine.DateTimeField()
    decline_reason = mongoengine.StringField()
    withdrawn_reason = mongoengine.StringField()
    hours = mongoengine.FloatField()
    participants = mongoengine.ListField(mongoengine.DictField())
    rating_score = mongoengine.IntField()
    service_code = mongoengine.StringField()
    code_attempts = mongoengine.IntField(default=0)
    code_locked_until = mongoengine.DateTimeField()
    checked_out_at = mongoengine.DateTimeField()
    hours_capped = mongoengine.BooleanField(default=False)


tasks_store = AggregateStore(TaskDocument)


def task_to_document(task: Task) -> dict[str, Any]:
    """The stored fields of a task (without id, version and outbox)."""
    state = to_state(task)
    # Sealed at rest (docs/adr/0095): the resident's street address; the phone is kept masked only.
    state["address"] = personal.seal(task.address)
    return state


def task_from_document(document: Mapping[str, Any]) -> Task:
    """A domain task from its stored document (its address opened for the volunteer serving it)."""
    task = from_state(Task, document, status=TaskStatus)
    task.address = personal.unseal(task.address)
    return task
