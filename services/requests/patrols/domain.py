"""Rules of alley stewards' patrol reports (小巷管家): what they found and how it was settled.

Pure: no I/O. A report is settled in one of three tiers: on the spot (closed at once, with a
note), by the community (it becomes an order in the loop for the station), or by a joint
consultation of several parties (a case with meeting records, closed when they agree).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.common.domain import DomainError, StateConflict
from services.requests.catalog.domain import CATEGORIES
from services.requests.orders import domain


class Tier(enum.StrEnum):
    RESOLVED_ON_SITE = "resolved_on_site"
    REPORTED_TO_COMMUNITY = "reported_to_community"
    JOINT_CONSULTATION = "joint_consultation"


class PatrolStatus(enum.StrEnum):
    CLOSED = "closed"
    # Reported to the community: the loop serves it; the report shows the order's progress.
    IN_LOOP = "in_loop"
    # A joint consultation that has not yet settled the matter.
    CONSULTING = "consulting"


TIER_TEXT = {
    Tier.RESOLVED_ON_SITE: ("现场解决", "Resolved on site"),
    Tier.REPORTED_TO_COMMUNITY: ("上报社区", "Reported to the community"),
    Tier.JOINT_CONSULTATION: ("联合会商", "Joint consultation"),
}
MIN_PARTIES = 2


class NotAConsultation(StateConflict):
    """Meetings belong to joint consultations only."""


class AlreadyClosed(StateConflict):
    """The report is settled."""


class NoMeetingYet(StateConflict):
    """A consultation closes on what a meeting decided; none is recorded."""


@dataclass(frozen=True)
class Meeting:
    """One meeting of a joint consultation: who sat at the table, what was said and decided."""

    held_at: datetime
    attendees: list[str]
    summary: str
    recorded_by: str
    recorded_at: datetime
    decision: str | None = None


@dataclass
class PatrolReport:
    """A problem a steward found on patrol, and how it was settled."""

    id: str
    steward_id: str
    township: str
    village: str
    description: str
    tier: str
    status: str
    reported_at: datetime
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    photo_urls: list[str] = field(default_factory=list)
    resolution_note: str | None = None
    category: str | None = None
    urgency: str = "normal"
    # The order a community report becomes; named before it exists so creating it is repeatable.
    request_id: str | None = None
    request_created: bool = False
    parties: list[str] = field(default_factory=list)
    meetings: list[dict[str, Any]] = field(default_factory=list)
    closed_at: datetime | None = None
    closed_by: str | None = None
    version: int = 1


@dataclass(frozen=True)
class Finding:
    """What a steward reports."""

    steward_id: str
    township: str
    village: str
    description: str
    tier: Tier
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    photo_urls: tuple[str, ...] = ()
    resolution_note: str | None = None
    category: str | None = None
    urgency: str = "normal"
    parties: tuple[str, ...] = ()


def report(finding: Finding, *, report_id: str, request_id: str, now: datetime) -> PatrolReport:
    """A new report, settled at once, handed to the loop, or opened as a consultation."""
    if (finding.latitude is None) != (finding.longitude is None):
        raise DomainError("give both latitude and longitude, or neither", field="location.latitude")
    tier = Tier(finding.tier)
    base = PatrolReport(
        id=report_id,
        steward_id=finding.steward_id,
        township=finding.township,
        village=finding.village,
        description=finding.description,
        tier=tier.value,
        status=PatrolStatus.CLOSED.value,
        reported_at=now,
        address=finding.address,
        latitude=finding.latitude,
        longitude=finding.longitude,
        photo_urls=list(finding.photo_urls),
        urgency=finding.urgency,
    )
    match tier:
        case Tier.RESOLVED_ON_SITE:
            if not finding.resolution_note:
                raise DomainError("say how it was resolved on site", field="resolution_note")
            base.resolution_note = finding.resolution_note
            base.closed_at = now
            base.closed_by = finding.steward_id
        case Tier.REPORTED_TO_COMMUNITY:
            category = finding.category or "environment"
            if category not in CATEGORIES:
                raise DomainError(f"unknown category {category!r}", field="category")
            base.category = category
            base.request_id = request_id
            base.status = PatrolStatus.IN_LOOP.value
        case Tier.JOINT_CONSULTATION:
            parties = [party for party in dict.fromkeys(finding.parties) if party]
            if len(parties) < MIN_PARTIES:
                raise DomainError(
                    f"a joint consultation needs at least {MIN_PARTIES} parties", field="parties"
                )
            base.parties = parties
            base.status = PatrolStatus.CONSULTING.value
    return base


def add_meeting(report_: PatrolReport, meeting: Meeting) -> None:
    """Record a meeting of an open consultation."""
    if report_.tier != Tier.JOINT_CONSULTATION:
        raise NotAConsultation("only a joint consultation has meetings")
    if report_.status == PatrolStatus.CLOSED:
        raise AlreadyClosed("the consultation is closed")
    report_.meetings.append(
        {
            "held_at": meeting.held_at,
            "attendees": list(meeting.attendees),
            "summary": meeting.summary,
            "decision": meeting.decision,
            "recorded_by": meeting.recorded_by,
            "recorded_at": meeting.recorded_at,
        }
    )


def close(report_: PatrolReport, *, note: str, by: str, now: datetime) -> None:
    """Close a consultation on what its meetings decided."""
    if report_.status == PatrolStatus.CLOSED:
        raise AlreadyClosed("the report is closed already")
    if report_.tier != Tier.JOINT_CONSULTATION:
        raise NotAConsultation("a report in the loop closes when its order does")
    if not report_.meetings:
        raise NoMeetingYet("record the meeting that settled it first")
    report_.status = PatrolStatus.CLOSED.value
    report_.resolution_note = note
    report_.closed_at = now
    report_.closed_by = by


# A community report is settled once its order is, whatever the report's stored status says yet.
ORDER_OUTCOMES = frozenset({"closed", "cancelled", "rejected"})


def current_status(report_: PatrolReport, order_status: str | None) -> PatrolStatus:
    """The report's status; a community report is closed as soon as its order is."""
    if report_.tier == Tier.REPORTED_TO_COMMUNITY and order_status in ORDER_OUTCOMES:
        return PatrolStatus.CLOSED
    return PatrolStatus(report_.status)


def order_for(report_: PatrolReport) -> domain.Submission:
    """The order a community report becomes: the steward is its orderer, for the village's station."""
    title = report_.description if len(report_.description) <= 30 else report_.description[:29] + "…"
    return domain.Submission(
        resident_id=report_.steward_id,
        category=report_.category or "environment",
        title=title,
        description=report_.description,
        township=report_.township,
        village=report_.village,
        address=report_.address,
        urgency=report_.urgency,
        source="patrol",
        source_ref=report_.id,
        latitude=report_.latitude,
        longitude=report_.longitude,
        source_details={"photo_urls": list(report_.photo_urls)},
    )
