"""How the hours ledger is stored: append-only lines, credits from tasks and staff corrections."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import mongoengine

from services.common.rollups import Contribution
from services.common.store import DocumentStore, RolledUpDocument, Shelf
from services.volunteers.figures import HOURS

CORRECTION = "correction"
# A volunteer's ledger: their credits, newest first; their corrections (a few), each its own list.
CREDITS = Shelf("credits", lambda d: d.get("volunteer_id") if d.get("kind") != CORRECTION else None)
CORRECTIONS = Shelf("corrections", lambda d: d.get("volunteer_id") if d.get("kind") == CORRECTION else None)


class HoursEntry(RolledUpDocument):
    """One line of a volunteer's ledger: a task's credit (written from `task.completed`) or a correction."""

    meta = {
        "collection": "hours",
        # A request's credits (one per participant), a credit's corrections, the two lists.
        "indexes": [
            "request_id",
            "corrects",
            "rollups_pending",
            CREDITS.field,
            CORRECTIONS.field,
            "outbox_pending",
        ],
    }

    id = mongoengine.StringField(primary_key=True)  # "<task id>:<volunteer id>", or "correction:<id>"
    volunteer_id = mongoengine.StringField(required=True)
    task_id = mongoengine.StringField(required=True)
    request_id = mongoengine.StringField(required=True)
    hours = mongoengine.FloatField(required=True)  # a correction's line holds its delta
    township = mongoengine.StringField()
    category = mongoengine.StringField()
    completed_at = mongoengine.DateTimeField()
    # A correction line: which credit it corrects, from what to what, who and why (docs/adr/0051).
    kind = mongoengine.StringField()
    corrects = mongoengine.StringField()
    before = mongoengine.FloatField()
    after = mongoengine.FloatField()
    reason = mongoengine.StringField()
    corrected_by = mongoengine.StringField()
    corrected_at = mongoengine.DateTimeField()
    # A correction's audit entry, waiting for the relay (docs/adr/0096); credits never have one.
    outbox = mongoengine.ListField(mongoengine.DictField(), default=list)
    outbox_pending = mongoengine.BooleanField(default=False)
    credits_shelf = mongoengine.StringField()
    corrections_shelf = mongoengine.StringField()


def line_rollups(document: Mapping[str, Any], _now: datetime) -> Contribution:
    """A credit adds its hours and a task to the volunteer's totals; a correction its difference."""
    counted: Contribution = {}
    if document.get("kind") == CORRECTION:
        HOURS.add(
            counted, document.get("volunteer_id"), document.get("corrected_at"), "hours", document["hours"]
        )
    else:
        moment = document.get("completed_at")
        HOURS.add(counted, document.get("volunteer_id"), moment, "hours", document["hours"])
        HOURS.add(counted, document.get("volunteer_id"), moment, "tasks", 1)
    return counted


hours_store = DocumentStore(HoursEntry, shelves=(CREDITS, CORRECTIONS), rollups=line_rollups)
