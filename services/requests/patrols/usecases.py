"""Patrol reports stored and settled: the report, its order in the loop, the tier metrics.

A community report is two documents (the report, its order). Each write is single-document and
repeatable: the report is stored first with its order's id already chosen; the order is then
inserted under that id (a second insert of the same id is refused, so it exists once); the
report is marked. If the process dies in between, the worker's sweep finishes the job.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from services.common import clock, idempotency
from services.common.domain import Missing
from services.common.ids import as_utc, new_id, utcnow
from services.common.logs import get_logger
from services.common.paging import newest_first
from services.common.store import AlreadyExists, from_state, holding, to_state
from services.requests.metrics import PATROL_REPORTS, PATROL_REPORTS_STORED
from services.requests.orders import usecases
from services.requests.orders.models import RequestDocument
from services.requests.patrols import domain as patrols
from services.requests.patrols.models import PatrolReportDocument, patrol_store

log = get_logger(__name__)

# A community report whose order is still missing this long (real time: its web request may still
# be creating the order) after it was filed is finished by the sweep.
SWEEP_AFTER = timedelta(seconds=5)


class UnknownReport(Missing):
    """No patrol report with that id."""


def _load(document: dict[str, Any]) -> patrols.PatrolReport:
    report = from_state(patrols.PatrolReport, document, reported_at=as_utc, closed_at=as_utc)
    for meeting in report.meetings:
        for key in ("held_at", "recorded_at"):
            if isinstance(meeting.get(key), datetime):
                meeting[key] = as_utc(meeting[key])
    return report


def file_report(
    finding: patrols.Finding,
    causation_id: str,
    idempotency_key: str | None = None,
    body_print: str | None = None,
) -> tuple[patrols.PatrolReport, bool]:
    """Store a steward's report (once per key and body); a community report also enters the loop."""
    scope = f"{finding.steward_id}:{idempotency_key}" if idempotency_key else None
    if scope and (earlier := _by_scope(scope, body_print)) is not None:
        return earlier, False
    now = utcnow()
    report = patrols.report(finding, report_id=new_id(), request_id=new_id(), now=now)
    try:
        patrol_store.insert(
            report.id,
            {
                **to_state(report),
                "updated_at": now,
                "idempotency_scope": scope or report.id,
                "idempotency_fingerprint": body_print,
            },
            [],
        )
    except AlreadyExists:
        # The same key raced in twice from a steward's flaky connection; the first one stored wins.
        earlier = _by_scope(scope, body_print) if scope else None
        if earlier is None:
            raise
        return earlier, False
    PATROL_REPORTS.labels(report.township, report.tier).inc()
    if report.tier == patrols.Tier.REPORTED_TO_COMMUNITY:
        _enter_loop(report, causation_id)
    return report, True


def _by_scope(scope: str, body_print: str | None) -> patrols.PatrolReport | None:
    document = PatrolReportDocument._get_collection().find_one({"idempotency_scope": scope}, {"outbox": 0})
    if document is None:
        return None
    idempotency.check_same_body(document.get("idempotency_fingerprint"), body_print)
    return _load(document)


def _enter_loop(report: patrols.PatrolReport, causation_id: str) -> None:
    """Create the report's order (once, under its chosen id) and mark the report."""
    assert report.request_id is not None
    usecases.submit_request(
        patrols.order_for(report), f"patrol-{report.id}", causation_id, request_id=report.request_id
    )
    PatrolReportDocument._get_collection().update_one(
        {"_id": report.id}, {"$set": {"request_created": True, "updated_at": utcnow()}}
    )
    report.request_created = True


def sweep_unlinked_reports(now: datetime | None = None) -> int:
    """Finish community reports whose order was never created (a periodic job of the worker)."""
    cutoff = (now or utcnow()) - clock.simulated(SWEEP_AFTER)
    found = PatrolReportDocument._get_collection().find(
        {"tier": patrols.Tier.REPORTED_TO_COMMUNITY.value, "request_created": False}
    )
    finished = 0
    for document in found:
        report = _load(document)
        if report.reported_at > cutoff:
            continue  # its web request may still be creating the order
        _enter_loop(report, causation_id=f"patrol-sweep-{report.id}")
        log.info("patrol.order_recovered", report_id=report.id, request_id=report.request_id)
        finished += 1
    return finished


def get_report(report_id: str) -> patrols.PatrolReport:
    """A stored report; `UnknownReport` when there is none."""
    document = patrol_store.get(report_id)
    if document is None:
        raise UnknownReport("no patrol report with that id")
    return _load(document)


def list_reports(
    *,
    steward_id: str | None = None,
    township: str | None = None,
    tier: str | None = None,
    status: str | None = None,
    limit: int = 20,
    before: str | None = None,
) -> list[patrols.PatrolReport]:
    """Newest first, filtered; `before` is the last id of the previous page."""
    filters = (("steward_id", steward_id), ("township", township), ("tier", tier), ("status", status))
    query = {name: value for name, value in filters if value}
    found = newest_first(
        PatrolReportDocument._get_collection(), query, limit=limit, before=before, projection={"outbox": 0}
    )
    return [_load(document) for document in found]


def order_statuses(request_ids: list[str]) -> dict[str, str]:
    """The loop's status of each community report's order (same service, same database)."""
    if not request_ids:
        return {}
    cursor = RequestDocument._get_collection().find({"_id": {"$in": request_ids}}, {"status": 1})
    return {document["_id"]: document["status"] for document in cursor}


@holding(patrol_store, lambda report_id, *_args, **_kwargs: report_id)
def add_meeting(report_id: str, meeting: patrols.Meeting) -> patrols.PatrolReport:
    """Record a meeting of a joint consultation."""
    report = get_report(report_id)
    patrols.add_meeting(report, meeting)
    patrol_store.save(report.id, report.version, {"meetings": report.meetings, "updated_at": utcnow()}, [])
    report.version += 1
    return report


@holding(patrol_store, lambda report_id, *_args, **_kwargs: report_id)
def close_report(report_id: str, note: str, by: str) -> patrols.PatrolReport:
    """Close a joint consultation on what its meetings decided."""
    report = get_report(report_id)
    now = utcnow()
    patrols.close(report, note=note, by=by, now=now)
    changes = {
        "status": report.status,
        "resolution_note": report.resolution_note,
        "closed_at": report.closed_at,
        "closed_by": report.closed_by,
        "updated_at": now,
    }
    patrol_store.save(report.id, report.version, changes, [])
    report.version += 1
    return report


def measure_patrol_reports() -> None:
    """Set the stored-reports gauge from the collection (a periodic job of the worker)."""
    pipeline = [
        {
            "$group": {
                "_id": {"township": "$township", "tier": "$tier", "status": "$status"},
                "count": {"$sum": 1},
            }
        }
    ]
    PATROL_REPORTS_STORED.clear()
    for row in PatrolReportDocument._get_collection().aggregate(pipeline):
        key = row["_id"]
        PATROL_REPORTS_STORED.labels(key["township"], key["tier"], key["status"]).set(row["count"])


def settle_reports_closed_by_the_loop() -> int:
    """Mark community reports closed once their order has closed, so stored status and filters agree."""
    waiting = list(
        PatrolReportDocument._get_collection().find(
            {"tier": patrols.Tier.REPORTED_TO_COMMUNITY.value, "status": patrols.PatrolStatus.IN_LOOP.value},
            {"request_id": 1},
        )
    )
    statuses = order_statuses([document["request_id"] for document in waiting if document.get("request_id")])
    settled = 0
    for document in waiting:
        outcome = statuses.get(document.get("request_id") or "")
        if outcome not in patrols.ORDER_OUTCOMES:
            continue
        # Setting the same values twice is harmless, so a repeated sweep needs no lease.
        PatrolReportDocument._get_collection().update_one(
            {"_id": document["_id"], "status": patrols.PatrolStatus.IN_LOOP.value},
            {
                "$set": {
                    "status": patrols.PatrolStatus.CLOSED.value,
                    "closed_at": utcnow(),
                    "resolution_note": f"order {outcome}",
                    "updated_at": utcnow(),
                }
            },
        )
        settled += 1
    return settled


def patrol_jobs() -> None:
    """The worker's patrol chores: finish interrupted community reports, settle closed ones, the gauge."""
    sweep_unlinked_reports()
    settle_reports_closed_by_the_loop()
    measure_patrol_reports()
