"""Rules of stations: a station's id is its identity everywhere; it serves one village or community.

Pure: no I/O. Orders name the village they are for, volunteers and teams the station they belong to;
the station's village links the two, and every change is announced with `station.updated` so the
other stages resolve a village to the station's id (docs/adr/0091).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from services.common import contracts
from services.common.domain import DomainError

StationKind = Literal["village", "community", "family_education"]
# How the county names a practice station: township, village or community, then this.
PRACTICE_STATION_SUFFIX = "新时代文明实践站"
UPDATABLE = ("name", "township", "kind", "village")


@dataclass
class Station:
    """A village or community practice station, or a family-education guidance station."""

    id: str
    code: str
    name: str
    township: str
    kind: str
    village: str | None = None
    profile_version: int = 1
    version: int = 1


def village_named_in(name: str, township: str) -> str | None:
    """`杉洋镇下洋村新时代文明实践站` of 杉洋镇 → `下洋村`; None when the name does not follow the pattern."""
    if not name.endswith(PRACTICE_STATION_SUFFIX):
        return None
    return name.removesuffix(PRACTICE_STATION_SUFFIX).removeprefix(township).strip() or None


def _settle_village(station: Station) -> None:
    if station.village is None and station.kind != "family_education":
        station.village = village_named_in(station.name, station.township)


def create(station: Station) -> list[contracts.EventData]:
    """A new station announces itself; a practice station's village comes from its name when not given."""
    _settle_village(station)
    return [announce(station)]


def update(station: Station, changes: dict[str, object]) -> list[contracts.EventData]:
    """Rename, move or re-kind a station; every change is announced with the whole station."""
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise DomainError(f"cannot change {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    changed = {name: value for name, value in changes.items() if getattr(station, name) != value}
    if not changed:
        return []
    for name, value in changed.items():
        setattr(station, name, value)
    if "village" not in changed and ("name" in changed or "township" in changed):
        station.village = None  # named after another village now: read it from the new name
    _settle_village(station)
    station.profile_version += 1
    return [announce(station)]


def announce(station: Station) -> contracts.StationUpdated:
    """The whole station, as the other stages keep it."""
    return contracts.StationUpdated(
        station_id=station.id,
        code=station.code,
        name=station.name,
        township=station.township,
        kind=station.kind,
        village=station.village,
        station_version=station.profile_version,
    )


def check_belongs(station: Station, township: str, field: str) -> None:
    """A volunteer or team of a township belongs to one of that township's stations only."""
    if station.township != township:
        raise DomainError(f"the station {station.id} is in {station.township}, not {township}", field=field)
