"""The dispatch job of one request: its states, its attempts, and what it asks of a candidate.

Pure data with a few derived properties; the rules that change a job live in domain.py.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.common.domain import StateConflict
from services.dispatch import cascade


class JobStatus(enum.StrEnum):
    WAITING = "waiting"  # for the next joint (batch) decision
    IN_REVIEW = "in_review"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    IN_SERVICE = "in_service"
    COMPLETED = "completed"
    ESCALATED = "escalated"  # in a dispatcher's queue (and in the claim pool)
    POOLED = "pooled"  # in the claim pool only (micro-wishes)
    CANCELLED = "cancelled"
    REJECTED = "rejected"


class AttemptStatus(enum.StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


CLOSED = frozenset({JobStatus.COMPLETED, JobStatus.CANCELLED, JobStatus.REJECTED})
# Where a person (a dispatcher, or a volunteer claiming from the pool) takes over.
WITH_PEOPLE = frozenset({JobStatus.ESCALATED, JobStatus.POOLED})


class NotAssignable(StateConflict):
    """The request is not waiting for a dispatcher, or the candidate cannot take it."""


@dataclass
class Attempt:
    """One offer of the request, with the candidates weighed for it."""

    task_id: str
    volunteer_id: str | None
    level: str
    offered_at: datetime
    deadline: datetime | None
    status: AttemptStatus = AttemptStatus.OFFERED
    reason: str | None = None
    considered: list[dict[str, Any]] = field(default_factory=list)
    team_id: str | None = None
    excluded: dict[str, int] = field(default_factory=dict)
    by: str | None = None  # the dispatcher of a manual offer

    @property
    def candidate_id(self) -> str:
        """Who was offered: the volunteer or the team."""
        return self.team_id or self.volunteer_id or ""


@dataclass
class Job:
    """The dispatch of one request: its needs, its attempts, who declined."""

    id: str  # the request id
    resident_id: str
    category: str
    skills_required: list[str]
    township: str
    village: str
    title: str
    description: str
    submitted_at: datetime
    status: JobStatus = JobStatus.OFFERED
    urgency: str = "normal"
    address: str | None = None
    contact_phone_masked: str | None = None
    window: dict[str, Any] | None = None
    attempts: list[Attempt] = field(default_factory=list)
    declined_by: list[str] = field(default_factory=list)
    expired_by: list[str] = field(default_factory=list)
    escalation_reason: str | None = None
    source: str = "resident"
    station: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    preassigned_volunteer_ids: list[str] = field(default_factory=list)
    needs_review: bool = False
    review: dict[str, Any] | None = None
    pooled_at: datetime | None = None
    next_deadline: datetime | None = None
    version: int = 1

    def attempt(self, task_id: str) -> Attempt | None:
        """The attempt that made this task."""
        return next((a for a in self.attempts if a.task_id == task_id), None)

    @property
    def open_attempt(self) -> Attempt | None:
        """The offer still waiting for an answer, if any."""
        return next((a for a in self.attempts if a.status == AttemptStatus.OFFERED), None)

    @property
    def tried(self) -> set[str]:
        """Everyone offered this request so far (they are never offered it again)."""
        return {a.candidate_id for a in self.attempts} | set(self.declined_by) | set(self.expired_by)

    def need(self, now: datetime) -> cascade.Need:
        """What the request asks of a candidate."""
        if self.window:
            start = as_datetime(self.window["start"])
            window: tuple[datetime, datetime | None] = (start, as_datetime(self.window["end"]))
        else:
            window = (now, None)
        point = (
            (self.latitude, self.longitude)
            if self.latitude is not None and self.longitude is not None
            else None
        )
        return cascade.Need(
            category=self.category,
            skills=list(self.skills_required),
            township=self.township,
            station=self.station or self.village,
            point=point,
            window=window,
            preassigned=list(self.preassigned_volunteer_ids),
        )


def as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
