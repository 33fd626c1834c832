"""Rules of volunteers: a profile with at least one skill and availability that makes sense.

Pure: no I/O. Every registration and change is announced with the whole public profile (no phone:
it stays in this service).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.common import contracts
from services.common.domain import DomainError


@dataclass
class Volunteer:
    """A registered volunteer: where they serve, what they can do, how much at once."""

    id: str
    name: str
    township: str
    skills: list[str]
    registered_at: datetime
    phone: str | None = None
    # The station they belong to, by its id (the identity); `station` is its name, to read.
    station_id: str | None = None
    station: str | None = None
    team_ids: list[str] = field(default_factory=list)
    active: bool = True
    capacity: int = 2
    latitude: float | None = None
    longitude: float | None = None
    profile_version: int = 1
    version: int = 1
    # When they can serve (local time): weekly slots {day, start, end}; dated exceptions.
    weekly_availability: list[dict[str, object]] = field(default_factory=list)
    availability_exceptions: list[dict[str, object]] = field(default_factory=list)


def snapshot(volunteer: Volunteer, *, registered: bool) -> contracts.VolunteerSnapshot:
    """The public profile others keep in their read-models (no phone: it stays here)."""
    event_class = contracts.VolunteerRegistered if registered else contracts.VolunteerUpdated
    return event_class(
        volunteer_id=volunteer.id,
        name=volunteer.name,
        township=volunteer.township,
        station_id=volunteer.station_id,
        station=volunteer.station,
        skills=sorted(set(volunteer.skills)),
        team_ids=list(volunteer.team_ids),
        active=volunteer.active,
        capacity=volunteer.capacity,
        profile_version=volunteer.profile_version,
        latitude=volunteer.latitude,
        longitude=volunteer.longitude,
        weekly_availability=volunteer.weekly_availability,
        availability_exceptions=volunteer.availability_exceptions,
    )


def check_availability(volunteer: Volunteer) -> None:
    """Every slot and timed exception must end after it starts (times are "HH:MM", local)."""
    for slot in volunteer.weekly_availability:
        if str(slot["start"]) >= str(slot["end"]):
            raise DomainError("a weekly slot must end after it starts", field="weekly_availability")
    for exception in volunteer.availability_exceptions:
        start, end = exception.get("start"), exception.get("end")
        if (start is None) != (end is None) or (start is not None and str(start) >= str(end)):
            raise DomainError(
                "an exception has both start and end, end after start", field="availability_exceptions"
            )


def register(volunteer: Volunteer) -> list[contracts.EventData]:
    """A new volunteer announces their profile."""
    if not volunteer.skills:
        raise DomainError("a volunteer needs at least one skill", field="skills")
    check_availability(volunteer)
    return [snapshot(volunteer, registered=True)]


UPDATABLE = (
    "name",
    "phone",
    "township",
    "station_id",
    "station",
    "skills",
    "team_ids",
    "active",
    "capacity",
    "latitude",
    "longitude",
    "weekly_availability",
    "availability_exceptions",
)


def update(volunteer: Volunteer, changes: dict[str, object]) -> list[contracts.EventData]:
    """Change a profile; every change is announced with the whole new profile."""
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise DomainError(f"cannot change {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    if not changes:
        return []
    for name, value in changes.items():
        setattr(volunteer, name, value)
    if not volunteer.skills:
        raise DomainError("a volunteer needs at least one skill", field="skills")
    check_availability(volunteer)
    volunteer.profile_version += 1
    return [snapshot(volunteer, registered=False)]
