"""Use cases of volunteers: register, read, list and change profiles."""

from __future__ import annotations

from typing import Any

from services.common import contracts
from services.common.domain import Missing
from services.common.events import envelopes
from services.common.ids import new_id, utcnow
from services.common.paging import newest_first
from services.common.store import from_state, holding, to_state
from services.volunteers import SERVICE
from services.volunteers.people import domain
from services.volunteers.people.domain import Volunteer
from services.volunteers.people.models import VolunteerDocument, volunteers_store
from services.volunteers.stations import usecases as stations


class UnknownVolunteer(Missing):
    """No volunteer with that id is registered here."""


def register_volunteer(fields: dict[str, Any], causation_id: str) -> Volunteer:
    """Store a new volunteer and announce the profile."""
    volunteer = Volunteer(id=new_id(), registered_at=utcnow(), **fields)
    volunteer.station = _station_name(volunteer.station_id, volunteer.township)
    events = domain.register(volunteer)
    volunteers_store.insert(
        volunteer.id,
        to_state(volunteer),
        envelopes(events, producer=SERVICE, correlation_id=volunteer.id, causation_id=causation_id),
    )
    return volunteer


def get_volunteer(volunteer_id: str) -> Volunteer:
    """A stored volunteer."""
    document = volunteers_store.get(volunteer_id)
    if document is None:
        raise UnknownVolunteer("no volunteer with that id")
    return from_state(Volunteer, document)


def find_volunteer(volunteer_id: str) -> Volunteer | None:
    """A stored volunteer, or None."""
    document = volunteers_store.get(volunteer_id)
    return from_state(Volunteer, document) if document is not None else None


def is_registered(volunteer_id: str) -> bool:
    """Whether a volunteer with this id is registered."""
    return volunteers_store.get(volunteer_id) is not None


@holding(volunteers_store, lambda volunteer_id, *_args, **_kwargs: volunteer_id)
def update_volunteer(volunteer_id: str, changes: dict[str, Any], causation_id: str) -> Volunteer:
    """Change a profile and announce it."""
    volunteer = get_volunteer(volunteer_id)
    if "station_id" in changes or "township" in changes:
        station_id = changes.get("station_id", volunteer.station_id)
        changes = {
            **changes,
            "station": _station_name(station_id, changes.get("township", volunteer.township)),
        }
    save_volunteer(volunteer, domain.update(volunteer, changes), causation_id)
    return volunteer


def _station_name(station_id: str | None, township: str) -> str | None:
    """The name of the station a volunteer names, which must be one of their township's (422 otherwise)."""
    return stations.known_station(station_id, township).name if station_id else None


def save_volunteer(volunteer: Volunteer, events: list[contracts.EventData], causation_id: str) -> None:
    """Save a changed profile with the events announcing it (nothing when nothing changed)."""
    if events:
        volunteers_store.save(
            volunteer.id,
            volunteer.version,
            to_state(volunteer),
            envelopes(events, producer=SERVICE, correlation_id=volunteer.id, causation_id=causation_id),
        )


def list_volunteers(
    *, township: str | None, skill: str | None, active: bool | None, limit: int, before: str | None
) -> list[Volunteer]:
    """Volunteers, newest first, filtered."""
    query: dict[str, Any] = {}
    if township:
        query["township"] = township
    if skill:
        query["skills"] = skill
    if active is not None:
        query["active"] = active
    return volunteers_where(query, limit=limit, before=before)


def volunteers_where(query: dict[str, Any], *, limit: int, before: str | None) -> list[Volunteer]:
    """A page of the volunteers matching `query`, newest first."""
    found = newest_first(
        VolunteerDocument._get_collection(), query, limit=limit, before=before, projection={"outbox": 0}
    )
    return [from_state(Volunteer, document) for document in found]
