"""The dispatch policy: the weights and limits an admin reads and changes through the API.

Pure: a pydantic model, so the same class validates the PUT body, documents it in OpenAPI and
is what the engine reads. Every field has a default, so a county starts with a working policy.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from services.common.schemas import URGENCIES


class Weights(BaseModel):
    """How much each part of a candidate's score counts; 0 turns a part off."""

    model_config = ConfigDict(extra="forbid")

    proximity: float = Field(3.0, ge=0, le=100, description="same station > same township > county")
    distance: float = Field(1.0, ge=0, le=100, description="closeness when both sides have coordinates")
    reputation: float = Field(2.0, ge=0, le=100, description="Bayesian mean of ratings")
    load: float = Field(1.5, ge=0, le=100, description="room left under capacity")
    fairness: float = Field(1.0, ge=0, le=100, description="time since the last task")
    acceptance: float = Field(1.0, ge=0, le=100, description="share of offers accepted")


class Policy(BaseModel):
    """Everything the engine weighs and how far it goes before it asks a person."""

    model_config = ConfigDict(extra="forbid")

    weights: Weights = Field(default_factory=Weights)
    offer_deadline_minutes: dict[str, float] = Field(
        default_factory=lambda: {"urgent": 30, "high": 60, "normal": 120, "low": 480},
        description="how long an offer waits for an answer, by urgency",
    )
    expiry_grace_seconds: float = Field(
        30.0, ge=0, le=3600, description="how long after its deadline an unanswered offer is taken back"
    )
    station_attempts: int = Field(3, ge=0, le=20, description="offers to individual volunteers first")
    township_attempts: int = Field(2, ge=0, le=20, description="then offers to the township's teams")
    county_attempts: int = Field(2, ge=0, le=20, description="then offers to county teams")
    review_categories: list[str] = Field(
        default_factory=list, max_length=20, description="categories a dispatcher approves before dispatch"
    )
    reputation_prior_mean: float = Field(4.0, ge=1, le=5, description="the mean a new volunteer starts at")
    reputation_prior_weight: float = Field(5.0, ge=0, le=100, description="ratings the prior counts as")
    fairness_horizon_hours: float = Field(72.0, gt=0, le=24 * 365, description="idle time that scores full")
    distance_scale_km: float = Field(5.0, gt=0, le=500, description="distance at which closeness halves")
    team_capacity: int = Field(5, ge=1, le=100, description="open tasks a team may hold at once")
    batch_window_seconds: int = Field(
        0, ge=0, le=3600, description="0: each request is decided on arrival (greedy); >0: jointly"
    )

    def offer_deadline(self, urgency: str) -> timedelta:
        """How long an offer of that urgency waits."""
        minutes = self.offer_deadline_minutes.get(urgency, self.offer_deadline_minutes.get("normal", 120))
        return timedelta(minutes=minutes)

    def needs_review(self, category: str, flagged: bool) -> bool:
        """Whether a dispatcher approves the request before anyone is offered it."""
        return flagged or category in self.review_categories


DEFAULT_POLICY = Policy()


def validate_deadlines(policy: Policy) -> str | None:
    """The name of a bad deadline entry, or None."""
    for urgency, minutes in policy.offer_deadline_minutes.items():
        if urgency not in URGENCIES or not 0.02 <= minutes <= 7 * 24 * 60:
            return urgency
    return None
