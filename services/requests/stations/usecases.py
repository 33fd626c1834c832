"""Keep the stations from their events, and find the station of a village.

The volunteers stage's organisation tree is the source; this copy only answers "which station serves
this village", so every order carries the station's id, the identity dispatch compares (ADR 0091).
"""

from __future__ import annotations

from dataclasses import dataclass

from services.common import contracts, locks
from services.common.events import Envelope
from services.requests.stations.models import KnownStation


@dataclass(frozen=True)
class StationRef:
    """A station's identity and, to read, its name."""

    id: str
    name: str


def on_station_updated(envelope: Envelope, data: contracts.StationUpdated) -> None:
    """Keep the newest announcement of a station; an older or repeated one changes nothing."""
    collection = KnownStation._get_collection()
    with locks.locked(f"{collection.name}:{data.station_id}"):
        stored = collection.find_one({"_id": data.station_id}, {"station_version": 1})
        if stored is not None and stored.get("station_version", 0) >= data.station_version:
            return
        collection.replace_one(
            {"_id": data.station_id},
            {"_id": data.station_id, **data.model_dump(exclude={"station_id"})},
            upsert=True,
        )


def station_serving(township: str, village: str) -> StationRef | None:
    """The practice station of a village (the oldest, should a village have two), or None."""
    found = KnownStation._get_collection().find(
        {"township": township, "village": village}, {"name": 1, "kind": 1}
    )
    practice = sorted((d for d in found if d.get("kind") != "family_education"), key=lambda d: d["_id"])
    return StationRef(practice[0]["_id"], practice[0]["name"]) if practice else None
