"""The county report's query and view, and the function that builds the view from a report."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.common.county import Township
from services.common.schemas import View
from services.requests.stats.domain import Report, Tally


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


class RateSet(View):
    response: float | None = Field(description="offers accepted within their deadline / offers")
    resolution: float | None = Field(description="completed / submitted")
    satisfaction: float | None = Field(description="ratings of 4 or 5 / ratings")


class Counts(View):
    """What the rates are computed from."""

    submitted: int
    completed: int
    offers: int
    offers_accepted_in_time: int
    ratings: int
    ratings_4_or_5: int


class RolloutFigures(View):
    activities: int = Field(description="completed services")
    volunteer_participations: int = Field(description="志愿者参与人次")
    people_served: int = Field(description="服务群众人次")
    volunteer_hours: float
    lectures: int = Field(description="completed policy lectures (政策宣讲)")
    lecture_audience: int
    patrol_reports: dict[str, int] = Field(description="by resolution tier, and total")
    rates: RateSet
    counts: Counts


class TownshipFigures(RolloutFigures):
    township: str


class RolloutView(View):
    """The county report: every township (or the one asked for) and the total."""

    model_config = ConfigDict(extra="forbid", validate_by_name=True, serialize_by_alias=True)

    start: datetime | None = Field(alias="from")
    end: datetime | None = Field(alias="to")
    township: str | None
    generated_at: datetime
    townships: list[TownshipFigures]
    total: RolloutFigures


def _figures(tally: Tally) -> dict[str, object]:
    rates = tally.rates()
    return {
        "activities": tally.activities,
        "volunteer_participations": tally.participations,
        "people_served": tally.people_served,
        "volunteer_hours": round(tally.hours, 2),
        "lectures": tally.lectures,
        "lecture_audience": tally.lecture_audience,
        "patrol_reports": {**tally.patrol_reports, "total": sum(tally.patrol_reports.values())},
        "rates": RateSet(**rates),
        "counts": Counts(
            submitted=tally.submitted,
            completed=tally.activities,
            offers=tally.offers,
            offers_accepted_in_time=tally.offers_accepted_in_time,
            ratings=tally.ratings,
            ratings_4_or_5=tally.ratings_satisfied,
        ),
    }


def rollout_view(report: Report, generated_at: datetime) -> RolloutView:
    """The report as the API shows it."""
    return RolloutView(
        start=report.period.start,
        end=report.period.end,
        township=report.township,
        generated_at=generated_at,
        townships=[
            TownshipFigures(township=name, **_figures(tally)) for name, tally in report.townships.items()
        ],
        total=RolloutFigures(**_figures(report.total)),
    )
