"""Bodies, queries and views of the stations API; they double as its OpenAPI document."""

from __future__ import annotations

from pydantic import BaseModel, Field

from services.common.county import Township
from services.common.paging import PageQuery
from services.common.schemas import StrictBody, View, refuse_null
from services.volunteers.stations.domain import Station, StationKind

VILLAGE_DESCRIPTION = (
    "the village or community it serves (read from a practice station's name when not given)"
)


class StationCreate(StrictBody):
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=80)
    township: Township
    kind: StationKind
    village: str | None = Field(None, min_length=1, max_length=40, description=VILLAGE_DESCRIPTION)


class StationPatch(StrictBody):
    name: str | None = Field(None, min_length=1, max_length=80)
    township: Township | None = None
    kind: StationKind | None = None
    village: str | None = Field(None, min_length=1, max_length=40, description=VILLAGE_DESCRIPTION)

    _kept = refuse_null("name", "township", "kind")


class StationListQuery(PageQuery):
    township: Township | None = None
    kind: StationKind | None = None


class StationPath(BaseModel):
    station_id: str = Field(min_length=1, max_length=64)


class StationView(View):
    id: str
    code: str
    name: str
    township: Township
    kind: StationKind
    village: str | None


def station_view(station: Station) -> StationView:
    """A station as stored."""
    return StationView(
        id=station.id,
        code=station.code,
        name=station.name,
        township=station.township,
        kind=station.kind,
        village=station.village,
    )
