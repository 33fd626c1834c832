"""Bodies, queries and views of the volunteers API; they double as its OpenAPI document."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from services.common.auth import Principal, mask_phone
from services.common.contracts import AvailabilityException, WeeklySlot
from services.common.county import Township
from services.common.paging import PageQuery
from services.common.schemas import Phone, StrictBody, View, refuse_null
from services.volunteers.people.domain import Volunteer


class VolunteerCreate(StrictBody):
    name: str = Field(min_length=1, max_length=50)
    phone: Phone | None = None
    township: Township
    station_id: str | None = Field(None, max_length=64, description="a station of their township (its id)")
    skills: list[str] = Field(min_length=1, max_length=20)
    team_ids: list[str] = Field(default_factory=list, max_length=20)
    active: bool = True
    capacity: int = Field(2, ge=0, le=20, description="tasks at once")
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    weekly_availability: list[WeeklySlot] = Field(default_factory=list, max_length=50)
    availability_exceptions: list[AvailabilityException] = Field(default_factory=list, max_length=100)


class VolunteerPatch(StrictBody):
    name: str | None = Field(None, min_length=1, max_length=50)
    phone: Phone | None = None
    township: Township | None = None
    station_id: str | None = Field(None, max_length=64, description="a station of their township (its id)")
    skills: list[str] | None = Field(None, min_length=1, max_length=20)
    team_ids: list[str] | None = Field(None, max_length=20)
    active: bool | None = None
    capacity: int | None = Field(None, ge=0, le=20)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    weekly_availability: list[WeeklySlot] | None = Field(None, max_length=50)
    availability_exceptions: list[AvailabilityException] | None = Field(None, max_length=100)

    _kept = refuse_null(
        "name",
        "township",
        "skills",
        "team_ids",
        "active",
        "capacity",
        "weekly_availability",
        "availability_exceptions",
    )


class VolunteerPath(BaseModel):
    volunteer_id: str = Field(min_length=1, max_length=64)


class VolunteerListQuery(PageQuery):
    township: Township | None = None
    skill: str | None = Field(None, max_length=40)
    active: bool | None = None


class VolunteerView(View):
    """A volunteer's profile; the phone in full only for themselves and staff."""

    id: str
    name: str
    phone: str | None
    township: Township
    station_id: str | None
    station: str | None = Field(description="the station's name")
    skills: list[str]
    team_ids: list[str]
    active: bool
    capacity: int
    latitude: float | None
    longitude: float | None
    registered_at: datetime
    profile_version: int
    weekly_availability: list[WeeklySlot]
    availability_exceptions: list[AvailabilityException]


def volunteer_view(volunteer: Volunteer, viewer: Principal) -> VolunteerView:
    """The profile as `viewer` may see it."""
    own_or_staff = viewer.sub == volunteer.id or viewer.is_staff
    return VolunteerView(
        id=volunteer.id,
        name=volunteer.name,
        phone=volunteer.phone if own_or_staff else mask_phone(volunteer.phone),
        township=volunteer.township,
        station_id=volunteer.station_id,
        station=volunteer.station,
        skills=volunteer.skills,
        team_ids=volunteer.team_ids,
        active=volunteer.active,
        capacity=volunteer.capacity,
        latitude=volunteer.latitude,
        longitude=volunteer.longitude,
        registered_at=volunteer.registered_at,
        profile_version=volunteer.profile_version,
        weekly_availability=volunteer.weekly_availability,
        availability_exceptions=volunteer.availability_exceptions,
    )
