"""Integration event schemas (v1): the data part of each event in DESIGN.md's catalogue.

These are contracts between services, not domain models: each service maps them to and from its
own domain. Consumers ignore fields they do not know; a breaking change is a new version.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Score = int


class EventData(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class TimeWindow(EventData):
    start: datetime
    end: datetime


# --- requests (点单) -------------------------------------------------------------------------------
class RequestSubmitted(EventData):
    request_id: str
    code: str
    resident_id: str
    category: str
    skills_required: list[str]
    title: str
    description: str
    township: str
    village: str
    address: str | None = None
    urgency: str = "normal"
    window: TimeWindow | None = None
    needs_review: bool = False
    contact_phone_masked: str | None = None
    submitted_at: datetime
    # Where the order came from; patrols, pairing visits and wishes enter the same loop.
    source: Literal["resident", "patrol", "pairing", "wish", "open311"] = "resident"
    source_ref: str | None = None
    # The station the order is for: its id (the identity dispatch compares) and its name (to read).
    station_id: str | None = None
    station: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    # A pairing visit goes to the paired volunteers first (dispatch honours it when they are eligible).
    preassigned_volunteer_ids: list[str] = Field(default_factory=list)


class RequestCancelled(EventData):
    request_id: str
    resident_id: str
    township: str
    category: str
    cancelled_by: str
    reason: str | None = None
    cancelled_at: datetime


class RequestClosed(EventData):
    request_id: str
    township: str
    category: str
    outcome: Literal["rated", "cancelled", "rejected"]
    closed_at: datetime


# --- dispatch (派单) -------------------------------------------------------------------------------
class RequestReviewed(EventData):
    request_id: str
    # "pending": dispatch holds the request until a dispatcher approves or rejects it.
    decision: Literal["approved", "rejected", "pending"]
    reason: str | None = None
    reviewer_id: str
    township: str
    category: str


class TaskOffered(EventData):
    task_id: str
    request_id: str
    attempt: int = Field(ge=1)
    volunteer_id: str | None = None
    team_id: str | None = None
    level: str
    deadline: datetime
    resident_id: str
    category: str
    township: str
    village: str
    title: str
    description: str
    urgency: str = "normal"
    window: TimeWindow | None = None
    address: str | None = None
    contact_phone_masked: str | None = None
    offered_at: datetime


class RequestPooled(EventData):
    request_id: str
    category: str
    skills_required: list[str]
    township: str
    village: str
    title: str
    urgency: str = "normal"
    pooled_at: datetime
    # What the winner of a claim needs to serve and be rated (optional: older producers omit them).
    resident_id: str | None = None
    description: str | None = None
    address: str | None = None
    contact_phone_masked: str | None = None
    window: TimeWindow | None = None


class RequestEscalated(EventData):
    request_id: str
    township: str
    category: str
    reason: str
    level: str
    escalated_at: datetime


# --- volunteers (接单) -----------------------------------------------------------------------------
class TaskAccepted(EventData):
    task_id: str
    request_id: str
    volunteer_id: str
    team_id: str | None = None
    township: str
    category: str
    accepted_at: datetime
    # The short code the resident reads out at check-in; shown only to the resident.
    service_code: str | None = None


class TaskDeclined(EventData):
    task_id: str
    request_id: str
    volunteer_id: str
    team_id: str | None = None
    reason: str
    township: str
    category: str
    declined_at: datetime


class TaskCheckedIn(EventData):
    task_id: str
    request_id: str
    volunteer_id: str
    township: str
    category: str
    checked_in_at: datetime


class Participant(EventData):
    volunteer_id: str
    hours: float = Field(ge=0)


class TaskCompleted(EventData):
    task_id: str
    request_id: str
    volunteer_id: str
    team_id: str | None = None
    participants: list[Participant]
    hours: float = Field(ge=0)
    people_served: int = Field(default=1, ge=0)
    resident_id: str
    township: str
    category: str
    completed_at: datetime


class WeeklySlot(EventData):
    """A weekly slot in local time: day 0 = Monday, times "HH:MM"."""

    day: int = Field(ge=0, le=6)
    start: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    end: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class AvailabilityException(EventData):
    """A date that differs from the week: away (all day, or start–end), or free in start–end."""

    date: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    available: bool = False
    start: str | None = Field(None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    end: str | None = Field(None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class VolunteerSnapshot(EventData):
    """The whole public profile, so a consumer's read-model needs no other source."""

    volunteer_id: str
    name: str
    township: str
    # The volunteer's station: its id (the identity) and, to read, its name.
    station_id: str | None = None
    station: str | None = None
    skills: list[str]
    team_ids: list[str] = Field(default_factory=list)
    active: bool = True
    capacity: int = Field(default=2, ge=0)
    profile_version: int = Field(ge=1)
    latitude: float | None = None
    longitude: float | None = None
    # When the volunteer can serve, in the county's local time; no slots means any time.
    weekly_availability: list[WeeklySlot] = Field(default_factory=list)
    availability_exceptions: list[AvailabilityException] = Field(default_factory=list)


class VolunteerRegistered(VolunteerSnapshot):
    pass


class VolunteerUpdated(VolunteerSnapshot):
    pass


class TeamUpdated(EventData):
    team_id: str
    name: str
    kind: str
    parent_id: str | None = None
    townships: list[str] = Field(default_factory=list)
    # A team based at one station (a village's own team); None for teams of a township or the county.
    station_id: str | None = None
    categories: list[str] = Field(default_factory=list)
    leader_id: str | None = None
    member_ids: list[str] = Field(default_factory=list)
    active: bool = True
    profile_version: int = Field(ge=1)


class StationUpdated(EventData):
    """A station as the organisation tree holds it: created, renamed, moved (the newest version wins)."""

    station_id: str
    code: str
    name: str
    township: str
    kind: str
    # The village or community the station serves (orders name their village, not the station).
    village: str | None = None
    station_version: int = Field(ge=1)


class PairingVisitDue(EventData):
    pairing_id: str
    visit_id: str
    beneficiary_id: str
    volunteer_ids: list[str]
    township: str
    village: str
    due_at: datetime
    # What the requests stage needs to turn the visit into an order (optional: v1 consumers ignore them).
    category: str = "elder_care"
    resident_id: str | None = None
    address: str | None = None
    note: str | None = None
    complete_by: datetime | None = None


# --- ratings (评单) --------------------------------------------------------------------------------
class RequestRated(EventData):
    rating_id: str
    request_id: str
    score: Score = Field(ge=1, le=5)
    comment: str | None = None
    resident_id: str
    volunteer_id: str
    team_id: str | None = None
    township: str
    category: str
    rated_at: datetime


class RatingFlagged(EventData):
    rating_id: str
    request_id: str
    score: Score = Field(ge=1, le=5)
    township: str
    category: str
    reason: str


class FollowupResolved(EventData):
    followup_id: str
    request_id: str
    outcome: str
    township: str
    resolved_at: datetime


# --- audit (any stage; the accounts service keeps the trail, docs/adr/0096) ------------------------
class AuditRecorded(EventData):
    """A staff action that changed someone else's record: who, what, on which record, when, why."""

    actor: str
    actor_role: str
    action: str
    subject_type: str
    subject_id: str
    # The township the record belongs to (township admins read their township's trail).
    township: str | None = None
    reason: str | None = None
    details: dict[str, str] = Field(default_factory=dict)
    at: datetime
