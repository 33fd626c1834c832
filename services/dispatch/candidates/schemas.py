"""HTTP parameters and views of dispatch's read-model of volunteers; they double as its OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from services.common.contracts import AvailabilityException, WeeklySlot
from services.common.schemas import View
from services.dispatch.engine.eligibility import Candidate


class VolunteerPath(BaseModel):
    volunteer_id: str = Field(min_length=1, max_length=64)


class VolunteerView(View):
    """What dispatch knows of a volunteer: profile, availability, load and history, all from events."""

    volunteer_id: str
    name: str | None
    township: str
    station_id: str | None
    skills: list[str]
    active: bool
    capacity: int
    load: int = Field(description="open tasks offered to or held by the volunteer")
    open_task_ids: list[str]
    last_offered_at: datetime | None
    offers: int
    accepted: int = Field(description="offers the volunteer accepted")
    ratings: int = Field(description="how many ratings feed the reputation")
    weekly_availability: list[WeeklySlot]
    availability_exceptions: list[AvailabilityException]
    profile_version: int


def volunteer_view(document: dict[str, Any], candidate: Candidate) -> VolunteerView:
    """A read-model entry as dispatchers see it."""
    return VolunteerView(
        volunteer_id=candidate.id,
        name=document.get("name"),
        township=candidate.township,
        station_id=candidate.station_id,
        skills=candidate.skills,
        active=candidate.active,
        capacity=candidate.capacity,
        load=candidate.load,
        open_task_ids=candidate.open_task_ids,
        last_offered_at=candidate.last_offered_at,
        offers=candidate.offers,
        accepted=candidate.accepted,
        ratings=candidate.rating_count,
        weekly_availability=[WeeklySlot.model_validate(slot) for slot in candidate.weekly],
        availability_exceptions=[AvailabilityException.model_validate(e) for e in candidate.exceptions],
        profile_version=document["profile_version"],
    )
