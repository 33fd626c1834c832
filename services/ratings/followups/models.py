"""How follow-ups are stored: one per request, outbox included."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import mongoengine

from services.common.rollups import Contribution
from services.common.store import AggregateDocument, AggregateStore, Shelf
from services.ratings.figures import OPEN_FOLLOWUPS

# Lists of follow-ups: a township's, the county's.
TOWNSHIP = Shelf("township", lambda d: d.get("township"))
COUNTY = Shelf("county", lambda d: "county")
OPEN = "open"


class FollowupDocument(AggregateDocument):
    """One request's follow-up; `_id` is the request id, so a request is followed up at most once."""

    meta = {
        "collection": "followups",
        "indexes": ["outbox_pending", "rollups_pending", TOWNSHIP.field, COUNTY.field],
    }

    id = mongoengine.StringField(primary_key=True)
    township = mongoengine.StringField()
    category = mongoengine.StringField()
    reasons = mongoengine.ListField(mongoengine.StringField())
    opened_at = mongoengine.DateTimeField()
    status = mongoengine.StringField()
    resident_id = mongoengine.StringField()
    volunteer_id = mongoengine.StringField()
    score = mongoengine.IntField()
    comment = mongoengine.StringField()
    outcome = mongoengine.StringField()
    note = mongoengine.StringField()
    resolved_by = mongoengine.StringField()
    resolved_at = mongoengine.DateTimeField()
    township_shelf = mongoengine.StringField()
    county_shelf = mongoengine.StringField()


def followup_rollups(document: Mapping[str, Any], _now: datetime) -> Contribution:
    """An open follow-up counts for its township."""
    counted: Contribution = {}
    if document.get("status") == OPEN:
        OPEN_FOLLOWUPS.add(counted, document.get("township"), document.get("opened_at"), OPEN)
    return counted


followups_store = AggregateStore(FollowupDocument, shelves=(TOWNSHIP, COUNTY), rollups=followup_rollups)
