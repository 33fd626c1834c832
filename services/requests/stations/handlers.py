"""Event entrypoint of the stations read-model."""

from __future__ import annotations

from services.common.consumer import HandlerMap
from services.requests.stations.usecases import on_station_updated

HANDLERS: HandlerMap = {("station.updated", 1): on_station_updated}
