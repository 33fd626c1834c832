"""How the hours ledger is stored: append-only lines, credits from tasks and staff corrections."""

from __future__ import annotations

import mongoengine


class HoursEntry(mongoengine.Document):
    """One line of a volunteer's ledger: a task's credit (written from `task.completed`) or a correction."""

    meta = {
        "collection": "hours",
        "indexes": [["volunteer_id", "-completed_at"], "township", "outbox_pending"],
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
