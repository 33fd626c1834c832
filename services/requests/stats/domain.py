"""Rules of the county's rollout figures (pure: no I/O).

A `Fact` is what the requests stage keeps about one request for the figures: its offers with
their deadlines, the answers to them, the completion and the rating. Applying the same event
twice leaves the same fact, and events may come in any order. `aggregate` turns facts, the
submitted requests and the filed patrol reports of a period into the county report.

Each figure is counted at the time of its own event (an offer at `offered_at`, an activity at
`completed_at`, ...), the same way Prometheus counters count them, so the report of a period
and the metrics of that period agree (docs/adr/0031).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.common.county import TOWNSHIPS
from services.requests.patrols.domain import Tier

LECTURE_CATEGORY = "policy_lecture"
PATROL_TIERS = tuple(tier.value for tier in Tier)
SATISFIED_SCORES = frozenset({4, 5})
FACT_EVENTS = ("task.offered", "task.accepted", "task.declined", "task.completed", "request.rated")


@dataclass(frozen=True)
class Offer:
    task_id: str
    offered_at: datetime
    deadline: datetime


@dataclass(frozen=True)
class Answer:
    task_id: str
    kind: str  # "accepted" | "declined"
    at: datetime


@dataclass(frozen=True)
class Completion:
    at: datetime
    hours: float
    participations: int
    people_served: int


@dataclass(frozen=True)
class Rating:
    score: int
    at: datetime


@dataclass
class Fact:
    """The rollout figures' view of one request."""

    request_id: str
    township: str
    category: str
    offers: dict[str, Offer] = field(default_factory=dict)
    answers: dict[str, Answer] = field(default_factory=dict)
    completion: Completion | None = None
    rating: Rating | None = None

    def accepted_in_time(self, task_id: str) -> bool:
        """Whether this offer was accepted before its deadline (both must be known)."""
        offer, answer = self.offers.get(task_id), self.answers.get(task_id)
        return (
            offer is not None
            and answer is not None
            and answer.kind == "accepted"
            and answer.at <= offer.deadline
        )

    def in_time_count(self) -> int:
        """Offers of this request accepted within their deadline."""
        return sum(1 for task_id in self.offers if self.accepted_in_time(task_id))

    def overdue_offers(self, now: datetime) -> int:
        """Offers whose deadline passed with no answer at all."""
        return sum(
            1
            for task_id, offer in self.offers.items()
            if task_id not in self.answers and offer.deadline < now
        )


@dataclass(frozen=True)
class Delta:
    """What one event adds to the county's counters (zero when the fact had it already)."""

    offers: int = 0
    offers_in_time: int = 0
    completion: Completion | None = None


def new_fact(request_id: str, township: str, category: str) -> Fact:
    """An empty fact for a request the figures have not heard of yet."""
    return Fact(request_id=request_id, township=township, category=category)


def apply(fact: Fact, kind: str, data: Any) -> Delta:
    """Fold one lifecycle event into the fact; idempotent, order-tolerant."""
    offers_before, in_time_before = len(fact.offers), fact.in_time_count()
    completion = None
    match kind:
        case "task.offered":
            fact.offers.setdefault(data.task_id, Offer(data.task_id, data.offered_at, data.deadline))
        case "task.accepted":
            fact.answers.setdefault(data.task_id, Answer(data.task_id, "accepted", data.accepted_at))
        case "task.declined":
            fact.answers.setdefault(data.task_id, Answer(data.task_id, "declined", data.declined_at))
        case "task.completed":
            if fact.completion is None:
                completion = Completion(
                    at=data.completed_at,
                    hours=float(sum(p.hours for p in data.participants) if data.participants else data.hours),
                    participations=max(len(data.participants), 1),
                    people_served=data.people_served,
                )
                fact.completion = completion
        case "request.rated":
            if fact.rating is None:
                fact.rating = Rating(score=data.score, at=data.rated_at)
        case _:
            return Delta()
    return Delta(
        offers=len(fact.offers) - offers_before,
        offers_in_time=fact.in_time_count() - in_time_before,
        completion=completion,
    )


# --- the report -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """[start, end) in UTC; either side may be open."""

    start: datetime | None = None
    end: datetime | None = None

    def holds(self, moment: datetime | None) -> bool:
        """Whether a moment falls in the window."""
        if moment is None:
            return False
        return (self.start is None or moment >= self.start) and (self.end is None or moment < self.end)


@dataclass
class Tally:
    """The report's figures for one township (or the whole county)."""

    submitted: int = 0
    offers: int = 0
    offers_accepted_in_time: int = 0
    activities: int = 0
    participations: int = 0
    people_served: int = 0
    hours: float = 0.0
    lectures: int = 0
    lecture_audience: int = 0
    ratings: int = 0
    ratings_satisfied: int = 0
    patrol_reports: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PATROL_TIERS, 0))

    def add(self, other: Tally) -> None:
        """Add another township's figures to these."""
        for name in (
            "submitted",
            "offers",
            "offers_accepted_in_time",
            "activities",
            "participations",
            "people_served",
            "hours",
            "lectures",
            "lecture_audience",
            "ratings",
            "ratings_satisfied",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for tier, count in other.patrol_reports.items():
            self.patrol_reports[tier] = self.patrol_reports.get(tier, 0) + count

    def rates(self) -> dict[str, float | None]:
        """Response, resolution and satisfaction; None where nothing was counted underneath."""
        return {
            "response": _ratio(self.offers_accepted_in_time, self.offers),
            "resolution": _ratio(self.activities, self.submitted),
            "satisfaction": _ratio(self.ratings_satisfied, self.ratings),
        }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True)
class SubmittedRequest:
    """A submitted request as the report counts it."""

    township: str
    category: str
    submitted_at: datetime


@dataclass(frozen=True)
class FiledReport:
    """A steward's patrol report as the report counts it."""

    township: str
    tier: str
    reported_at: datetime


@dataclass(frozen=True)
class Report:
    """The county report of a period: each township's tally (all 14, or the one asked for), the total."""

    period: Period
    township: str | None
    townships: dict[str, Tally]
    total: Tally


def aggregate(
    submissions: Iterable[SubmittedRequest],
    facts: Iterable[Fact],
    patrols: Iterable[FiledReport],
    period: Period,
    township: str | None = None,
) -> Report:
    """The county report of a period: per township (all 14 unless one is asked for) and in total."""
    names = [township] if township else list(TOWNSHIPS)
    tallies: dict[str, Tally] = {name: Tally() for name in names}

    def tally_of(name: str) -> Tally | None:
        if township and name != township:
            return None
        return tallies.setdefault(name, Tally())

    for submission in submissions:
        if period.holds(submission.submitted_at) and (tally := tally_of(submission.township)):
            tally.submitted += 1
    for fact in facts:
        tally = tally_of(fact.township)
        if tally is None:
            continue
        for task_id, offer in fact.offers.items():
            if period.holds(offer.offered_at):
                tally.offers += 1
                tally.offers_accepted_in_time += fact.accepted_in_time(task_id)
        if fact.completion and period.holds(fact.completion.at):
            tally.activities += 1
            tally.participations += fact.completion.participations
            tally.people_served += fact.completion.people_served
            tally.hours += fact.completion.hours
            if fact.category == LECTURE_CATEGORY:
                tally.lectures += 1
                tally.lecture_audience += fact.completion.people_served
        if fact.rating and period.holds(fact.rating.at):
            tally.ratings += 1
            tally.ratings_satisfied += fact.rating.score in SATISFIED_SCORES
    for report in patrols:
        if period.holds(report.reported_at) and (tally := tally_of(report.township)):
            tally.patrol_reports[report.tier] = tally.patrol_reports.get(report.tier, 0) + 1

    total = Tally()
    for tally in tallies.values():
        total.add(tally)
    return Report(period=period, township=township, townships=tallies, total=total)
