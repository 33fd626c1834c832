"""Use cases of stations: create, read, list and change them, each change announced with its event."""

from __future__ import annotations

from typing import Any

from services.common import contracts
from services.common.domain import DomainError, Missing
from services.common.events import envelopes
from services.common.ids import new_id
from services.common.paging import newest_first
from services.common.store import AlreadyExists, from_state, holding, to_state
from services.volunteers import SERVICE
from services.volunteers.stations import domain
from services.volunteers.stations.domain import Station
from services.volunteers.stations.models import StationDocument, stations_store


class UnknownStation(Missing):
    """No station with that id is stored here."""


def create_station(fields: dict[str, Any], causation_id: str) -> Station:
    """Store a station and announce it; its code is unique."""
    station = Station(id=new_id(), **fields)
    events = domain.create(station)
    if StationDocument._get_collection().find_one({"code": station.code}, {"_id": 1}) is not None:
        raise DomainError("a station with this code exists", field="code")
    try:
        stations_store.insert(station.id, to_state(station), _envelopes(events, station.id, causation_id))
    except AlreadyExists:
        raise DomainError("a station with this code exists", field="code") from None
    return station


def find_station(station_id: str) -> Station | None:
    """A stored station, or None."""
    document = stations_store.get(station_id)
    return from_state(Station, document) if document is not None else None


def get_station(station_id: str) -> Station:
    """A stored station."""
    station = find_station(station_id)
    if station is None:
        raise UnknownStation("no station with that id")
    return station


def known_station(station_id: str, township: str, field: str = "station_id") -> Station:
    """The station a volunteer or team names: it exists and is in their township (422 naming `field`)."""
    station = find_station(station_id)
    if station is None:
        raise DomainError("no station with that id", field=field)
    domain.check_belongs(station, township, field)
    return station


@holding(stations_store, lambda station_id, *_args: station_id)
def update_station(station_id: str, changes: dict[str, Any], causation_id: str) -> Station:
    """Rename a station, move it to another township or change its kind (admin)."""
    station = get_station(station_id)
    events = domain.update(station, changes)
    if events:
        stations_store.save(
            station.id, station.version, to_state(station), _envelopes(events, station.id, causation_id)
        )
    return station


def list_stations(*, township: str | None, kind: str | None, limit: int, before: str | None) -> list[Station]:
    """Stations, newest first, filtered."""
    query: dict[str, Any] = {}
    if township:
        query["township"] = township
    if kind:
        query["kind"] = kind
    found = newest_first(
        StationDocument._get_collection(), query, limit=limit, before=before, projection={"outbox": 0}
    )
    return [from_state(Station, document) for document in found]


def _envelopes(events: list[contracts.EventData], station_id: str, causation_id: str) -> list[dict[str, Any]]:
    return envelopes(events, producer=SERVICE, correlation_id=station_id, causation_id=causation_id)
