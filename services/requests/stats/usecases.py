"""The county's rollout figures: facts kept per request, the report of a period, periodic gauges.

The requests stage consumes every lifecycle event, so it keeps one `rollout_facts` document per
request (offers with deadlines, answers, completion, rating). It is written inside the request's
lease by `lifecycle.usecases.record_lifecycle_event`, before the request itself, and rewriting it
with the same event changes nothing, so a retried event neither loses nor doubles a figure. Each
fact, request and patrol report counts into rollups (services/common/rollups.py) as it is stored;
the report and the gauges read those, never the facts themselves.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.common.county import TOWNSHIPS
from services.common.events import Envelope
from services.common.ids import utcnow
from services.common.rollups import totals
from services.common.sweeps import visit
from services.requests import figures
from services.requests.metrics import (
    OFFERS,
    OFFERS_IN_TIME,
    OFFERS_OVERDUE,
    PARTICIPATIONS,
    PEOPLE_SERVED,
    VOLUNTEER_HOURS,
)
from services.requests.orders.models import requests_store
from services.requests.stats import domain
from services.requests.stats.domain import Delta, Period, Report
from services.requests.stats.models import fact_from_document, fact_to_document, facts_store


# --- writing ----------------------------------------------------------------------------------------
def record_fact(envelope: Envelope, data: Any) -> Delta:
    """Fold a lifecycle event into its request's fact; the caller holds the request's lease."""
    if envelope.type not in domain.FACT_EVENTS:
        return Delta()
    stored = facts_store.get(data.request_id)
    fact = (
        fact_from_document(stored)
        if stored
        else domain.new_fact(data.request_id, data.township, data.category)
    )
    delta = domain.apply(fact, envelope.type, data)
    _store(fact, exists=stored is not None)
    return delta


def _store(fact: domain.Fact, *, exists: bool) -> None:
    document = fact_to_document(fact, utcnow())
    if not exists or not facts_store.set(fact.request_id, document):
        facts_store.add(document)


def observe_delta(township: str, category: str, delta: Delta) -> None:
    """Count what one event added to the rollout figures."""
    if delta.offers:
        OFFERS.labels(township, category).inc(delta.offers)
    if delta.offers_in_time:
        OFFERS_IN_TIME.labels(township, category).inc(delta.offers_in_time)
    if delta.completion is not None:
        VOLUNTEER_HOURS.labels(township, category).inc(delta.completion.hours)
        PARTICIPATIONS.labels(township, category).inc(delta.completion.participations)
        PEOPLE_SERVED.labels(township, category).inc(delta.completion.people_served)


# --- reading ----------------------------------------------------------------------------------------
def rollout(start: datetime | None, end: datetime | None, township: str | None) -> Report:
    """The county report of [start, end): per township and in total, from the rollout's rollup."""
    period = Period(start, end)
    summed = totals(figures.ROLLOUT, [township] if township else None, start, end)
    return domain.report(summed, period, township)


# --- gauges and the overdue sweep (periodic jobs of the worker) -------------------------------------
def measure_rollout_gauges() -> None:
    """Set the overdue-offers gauge from its rollup (patrol reports are gauged by the patrol use cases)."""
    counted = totals(figures.OVERDUE_OFFERS)
    for township in {*TOWNSHIPS, *counted}:
        OFFERS_OVERDUE.labels(township).set(counted.get(township, {}).get("overdue", 0))


def watch_overdue_offers() -> int:
    """Recount the facts whose next unanswered offer fell overdue in the minutes since the last run."""
    return visit("rollout_facts:watch_minute", utcnow(), _recount_minute)


def _recount_minute(minute: str) -> int:
    recounted = 0
    for document in facts_store.find(watch_minute=minute):
        # The request's lease: facts are written under it (lifecycle), so nothing changes meanwhile.
        with requests_store.locked(document["_id"]):
            stored = facts_store.get(document["_id"])
            if stored is None or stored.get("watch_minute") != minute:
                continue
            facts_store.set(stored["_id"], fact_to_document(fact_from_document(stored), utcnow()))
            recounted += 1
    return recounted
