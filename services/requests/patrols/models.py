"""How patrol reports are stored (collection `patrol_reports`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import mongoengine

from services.common.rollups import Contribution
from services.common.store import AggregateDocument, AggregateStore, Shelf, to_state
from services.requests.figures import PATROL_REPORTS, ROLLOUT
from services.requests.patrols.domain import PatrolReport, Tier

# Lists of reports: a steward's own, a township's, the county's.
STEWARD = Shelf("steward", lambda d: d.get("steward_id"))
TOWNSHIP = Shelf("township", lambda d: d.get("township"))
COUNTY = Shelf("county", lambda d: "county")


class PatrolReportDocument(AggregateDocument):
    """One patrol report (collection `patrol_reports`)."""

    meta = {
        "collection": "patrol_reports",
        "indexes": [
            # "<steward>:<Idempotency-Key>", or the report id when no key was sent.
            {"fields": ["idempotency_scope"], "unique": True},
            # Few are true or in the loop at any time: the sweeps read only those.
            "order_pending",
            "status",
            "rollups_pending",
            "outbox_pending",
            *(shelf.field for shelf in (STEWARD, TOWNSHIP, COUNTY)),
        ],
    }

    id = mongoengine.StringField(primary_key=True)
    steward_id = mongoengine.StringField(required=True)
    township = mongoengine.StringField(required=True)
    village = mongoengine.StringField(required=True)
    description = mongoengine.StringField(required=True)
    tier = mongoengine.StringField(required=True)
    status = mongoengine.StringField(required=True)
    reported_at = mongoengine.DateTimeField(required=True)
    address = mongoengine.StringField()
    latitude = mongoengine.FloatField()
    longitude = mongoengine.FloatField()
    photo_urls = mongoengine.ListField(mongoengine.StringField())
    resolution_note = mongoengine.StringField()
    category = mongoengine.StringField()
    urgency = mongoengine.StringField()
    request_id = mongoengine.StringField()
    request_created = mongoengine.BooleanField(default=False)
    order_pending = mongoengine.BooleanField(default=False)
    steward_shelf = mongoengine.StringField()
    township_shelf = mongoengine.StringField()
    county_shelf = mongoengine.StringField()
    parties = mongoengine.ListField(mongoengine.StringField())
    meetings = mongoengine.ListField(mongoengine.DictField())
    closed_at = mongoengine.DateTimeField()
    closed_by = mongoengine.StringField()
    updated_at = mongoengine.DateTimeField()
    idempotency_scope = mongoengine.StringField()
    idempotency_fingerprint = mongoengine.StringField()


def report_state(report: PatrolReport) -> dict[str, Any]:
    """A report's stored fields; a community report's order is pending until it is made."""
    community = report.tier == Tier.REPORTED_TO_COMMUNITY
    return {**to_state(report), "order_pending": community and not report.request_created}


def report_rollups(document: Mapping[str, Any], _now: datetime) -> Contribution:
    """What a report counts for: its tier in the county report, its tier and status in the gauge."""
    township, tier, reported_at = document.get("township"), document.get("tier"), document.get("reported_at")
    counted: Contribution = {}
    if tier:
        ROLLOUT.add(counted, township, reported_at, f"patrol:{tier}")
        PATROL_REPORTS.add(counted, township, reported_at, f"{tier}|{document.get('status')}")
    return counted


patrol_store = AggregateStore(
    PatrolReportDocument, shelves=(STEWARD, TOWNSHIP, COUNTY), rollups=report_rollups
)
