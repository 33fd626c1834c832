"""HTTP entrypoints of stations: anyone signed in reads them, admins create and change them."""

from __future__ import annotations

from flask import g
from flask_openapi3 import APIBlueprint, Tag

from services.common.auth import Role, require
from services.common.paging import Page, page_of
from services.common.schemas import ERROR_RESPONSES
from services.volunteers.stations import usecases
from services.volunteers.stations.schemas import (
    StationCreate,
    StationListQuery,
    StationPatch,
    StationPath,
    StationView,
    station_view,
)

stations_api = APIBlueprint(
    "stations",
    __name__,
    url_prefix="/api/v1/stations",
    abp_tags=[Tag(name="stations")],
    abp_security=[{"bearer": []}],
    abp_responses=ERROR_RESPONSES,
)


@stations_api.post("", responses={201: StationView})
def create_station(body: StationCreate) -> tuple[StationView, int]:
    """Create a station (admin); it is announced with `station.updated`."""
    require(Role.ADMIN)
    return station_view(usecases.create_station(body.model_dump(), g.request_id)), 201


@stations_api.get("", responses={200: Page[StationView]})
def list_stations(query: StationListQuery) -> Page[StationView]:
    """Stations, by township and kind (anyone signed in)."""
    require()
    found = usecases.list_stations(
        township=query.township, kind=query.kind, limit=query.limit, before=query.before
    )
    return Page[StationView](**page_of([station_view(s) for s in found], query.limit, key=lambda s: s.id))


@stations_api.get("/<station_id>", responses={200: StationView})
def get_station(path: StationPath) -> StationView:
    """One station (anyone signed in)."""
    require()
    return station_view(usecases.get_station(path.station_id))


@stations_api.patch("/<station_id>", responses={200: StationView})
def update_station(path: StationPath, body: StationPatch) -> StationView:
    """Rename a station, move it, change its kind or village (admin)."""
    require(Role.ADMIN)
    changes = body.model_dump(exclude_unset=True)
    return station_view(usecases.update_station(path.station_id, changes, g.request_id))
