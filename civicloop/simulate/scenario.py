"""The scenario file: a county, its people and its demand, so another county runs without code changes."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

SCENARIOS = Path(__file__).parent / "scenarios"
CATEGORIES = (
    "elder_care",
    "study_help",
    "family_education",
    "policy_lecture",
    "health_check",
    "legal_aid",
    "environment",
    "repairs",
    "culture",
    "other",
)
# The skill a volunteer needs for each category (the catalogue's, services/requests/catalog).
SKILL_OF = {
    "elder_care": "elder_care",
    "study_help": "tutoring",
    "family_education": "family_education",
    "policy_lecture": "lecturing",
    "health_check": "medical",
    "legal_aid": "legal",
    "environment": "environment",
    "repairs": "repairs",
    "culture": "culture",
    "other": "elder_care",
}
Tier = Literal["resolved_on_site", "reported_to_community", "joint_consultation"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Township(Strict):
    """One township institute: its stations, volunteers and share of the county's demand."""

    name: str
    stations: int = Field(ge=1)
    volunteers: int = Field(ge=1)
    weight: float = Field(1.0, gt=0, description="share of demand, relative to the others")
    community: bool = Field(False, description="urban sub-district (社区) rather than villages (村)")


class Team(Strict):
    name: str
    categories: list[str]


class Teams(Strict):
    corps: str
    standing: list[Team]
    sub_teams: int = Field(ge=0)
    lecture_brand: int = Field(ge=0)


class Size(Strict):
    """How many take part in, and are served by, one service of a category (means; drawn around them)."""

    participants: float = Field(1.0, ge=1, le=50)
    people_served: float = Field(1.0, ge=0)
    hours: float = Field(2.0, gt=0, le=12, description="how long the service takes")


class Festival(Strict):
    """Demand for some categories rises in the days before a festival."""

    name: str
    date: date
    days_before: int = Field(14, ge=1, le=60)
    categories: list[str]
    factor: float = Field(2.0, gt=0)


class Season(Strict):
    name: str
    months: list[int]
    categories: list[str] = Field(default_factory=list)
    patrol_factor: float = 1.0
    factor: float = 1.0


class Demand(Strict):
    """Yearly counts across the county; the simulator spreads them over townships, days and hours."""

    orders: dict[str, float] = Field(description="residents' orders per year, by category")
    lectures: float = Field(ge=0, description="lectures villages order per year")
    patrols: dict[Tier, float]
    wishes: float = Field(ge=0)
    urgency: dict[str, float] = Field(default_factory=lambda: {"normal": 1.0})
    festivals: list[Festival] = Field(default_factory=list)
    seasons: list[Season] = Field(default_factory=list)
    sizes: dict[str, Size] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_categories(self) -> Demand:
        named = set(self.orders) | set(self.sizes)
        for item in [*self.festivals, *self.seasons]:
            named |= set(item.categories)
        unknown = named - set(CATEGORIES)
        if unknown:
            raise ValueError(f"unknown categories: {sorted(unknown)}")
        return self

    def size(self, category: str) -> Size:
        return self.sizes.get(category, Size())


class Pairings(Strict):
    count: int = Field(ge=0)
    every_days: int = Field(ge=1, le=366)
    grace_hours: int = Field(72, ge=1)


class Behaviour(Strict):
    """How people answer: probabilities and delays (minutes of simulated time, means)."""

    accept: float = Field(0.8, ge=0, le=1)
    decline: float = Field(0.12, ge=0, le=1)
    answer_minutes: float = Field(25, gt=0)
    no_show: float = Field(0.03, ge=0, le=1)
    cancel_before_service: float = Field(0.03, ge=0, le=1)
    review_minutes: float = Field(90, gt=0)
    review_reject: float = Field(0.1, ge=0, le=1)
    assign_minutes: float = Field(120, gt=0)
    claim_minutes: float = Field(240, gt=0)
    lead_hours: float = Field(6, gt=0, description="from acceptance to the visit")
    rate: float = Field(0.92, ge=0, le=1)
    rate_hours: float = Field(12, gt=0)
    scores: dict[int, float] = Field(default_factory=lambda: {5: 0.7, 4: 0.2, 3: 0.06, 2: 0.025, 1: 0.015})
    followup_hours: float = Field(36, gt=0)
    consultation_days: float = Field(7, gt=0)

    @model_validator(mode="after")
    def _probabilities(self) -> Behaviour:
        if self.accept + self.decline > 1:
            raise ValueError("accept + decline must not exceed 1 (the rest let the offer expire)")
        if not set(self.scores) <= {1, 2, 3, 4, 5} or sum(self.scores.values()) <= 0:
            raise ValueError("scores are weights for 1 to 5")
        return self


class Published(Strict):
    """The county's own published yearly figures, to compare the report with line by line."""

    activities: int | None = None
    participations: int | None = None
    people_served: int | None = None
    lectures: int | None = None
    lecture_audience: int | None = None
    patrols: dict[Tier, int] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)


class Scenario(Strict):
    """A county to simulate."""

    county: str
    start: datetime = Field(description="simulated time at the start of day 1, with a time zone")
    townships: list[Township] = Field(min_length=1)
    family_education_stations: int = Field(0, ge=0)
    teams: Teams
    skills_per_volunteer: tuple[int, int] = (1, 3)
    capacity: list[int] = Field(default_factory=lambda: [1, 2, 2, 3])
    stewards_per_township: int = Field(2, ge=1)
    demand: Demand
    pairings: Pairings
    behaviour: Behaviour = Field(default_factory=Behaviour)
    policy: dict[str, object] = Field(default_factory=dict, description="dispatch policy fields to set")
    published: Published = Field(default_factory=Published)

    @model_validator(mode="after")
    def _zone(self) -> Scenario:
        if self.start.tzinfo is None:
            raise ValueError("start needs a time zone, e.g. 2026-01-01T00:00:00+08:00")
        return self

    @property
    def township_names(self) -> list[str]:
        return [township.name for township in self.townships]


def load_scenario(path: Path | str) -> Scenario:
    """A scenario from a YAML file; a bare name means one shipped in civicloop/simulate/scenarios."""
    file = Path(path)
    if not file.exists() and (SCENARIOS / f"{path}.yaml").exists():
        file = SCENARIOS / f"{path}.yaml"
    with file.open(encoding="utf-8") as handle:
        return Scenario.model_validate(yaml.safe_load(handle))
