"""HTTP entrypoint of the county report: `GET /api/v1/stats/rollout?from=&to=&township=`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.common.auth import STAFF, require
from services.common.county import Township
from services.common.errors import Forbidden
from services.common.schemas import ERROR_RESPONSES
from services.requests.stats import usecases as stats

stats_api = APIBlueprint(
    "stats",
    __name__,
    url_prefix="/api/v1/stats",
    abp_tags=[Tag(name="stats", description="the county's rollout figures")],
    abp_security=[{"bearer": []}],
    abp_responses=ERROR_RESPONSES,
)


class RolloutQuery(BaseModel):
    """The period [from, to) in ISO 8601 (a date alone means midnight UTC) and an optional township."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    start: datetime | None = Field(None, alias="from", description="inclusive; default: the beginning")
    end: datetime | None = Field(None, alias="to", description="exclusive; default: now")
    township: Township | None = None

    @field_validator("start", "end", mode="before")
    @classmethod
    def _date_means_midnight(cls, value: object) -> object:
        if isinstance(value, str) and len(value) == 10:
            return f"{value}T00:00:00+00:00"
        return value

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone (for example 2026-11-29T00:00:00+08:00) or a date alone")
        return value.astimezone(UTC) if value else None

    @model_validator(mode="after")
    def _ordered(self) -> RolloutQuery:
        if self.start and self.end and self.end <= self.start:
            raise ValueError("`to` must be after `from`")
        return self


class RateSet(BaseModel):
    response: float | None = Field(description="offers accepted within their deadline / offers")
    resolution: float | None = Field(description="completed / submitted")
    satisfaction: float | None = Field(description="ratings of 4 or 5 / ratings")


class RolloutFigures(BaseModel):
    activities: int = Field(description="completed services")
    volunteer_participations: int = Field(description="志愿者参与人次")
    people_served: int = Field(description="服务群众人次")
    volunteer_hours: float
    lectures: int = Field(description="completed policy lectures (政策宣讲)")
    lecture_audience: int
    patrol_reports: dict[str, int] = Field(description="by resolution tier, and total")
    rates: RateSet
    counts: dict[str, int]


class TownshipFigures(RolloutFigures):
    township: str


class RolloutView(BaseModel):
    """The county report: every township (or the one asked for) and the total."""

    start: datetime | None = Field(None, alias="from")
    end: datetime | None = Field(None, alias="to")
    township: str | None = None
    generated_at: datetime
    townships: list[TownshipFigures]
    total: RolloutFigures


@stats_api.get("/rollout", responses={200: RolloutView})
def rollout(query: RolloutQuery) -> dict[str, Any]:
    """The county report (dispatchers and admins; township staff get their own township)."""
    principal = require(*STAFF)
    township = query.township
    if principal.township:
        if township and township != principal.township:
            raise Forbidden(f"you see figures of {principal.township} only", field="township")
        township = principal.township
    return stats.rollout(query.start, query.end, township)
