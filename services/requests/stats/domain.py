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

from collections.abc import Iterable, Mapping
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


# --- figures: what each thing counts, at the moment of its own event --------------------------------
Figure = tuple[datetime, str, float]


def fact_figures(fact: Fact) -> list[Figure]:
    """The figures a request's fact counts, each at its own moment (an in-time acceptance at its offer's)."""
    found: list[Figure] = []
    for task_id, offer in fact.offers.items():
        found.append((offer.offered_at, "offers", 1))
        if fact.accepted_in_time(task_id):
            found.append((offer.offered_at, "offers_in_time", 1))
    if fact.completion:
        done = fact.completion
        found += [
            (done.at, "activities", 1),
            (done.at, "participations", done.participations),
            (done.at, "people_served", done.people_served),
            (done.at, "hours", done.hours),
        ]
        if fact.category == LECTURE_CATEGORY:
            found += [(done.at, "lectures", 1), (done.at, "lecture_audience", done.people_served)]
    if fact.rating:
        found.append((fact.rating.at, "ratings", 1))
        if fact.rating.score in SATISFIED_SCORES:
            found.append((fact.rating.at, "ratings_satisfied", 1))
    return found


def overdue_deadlines(fact: Fact, now: datetime) -> list[datetime]:
    """Deadlines of this request's offers that passed with no answer."""
    return [
        offer.deadline
        for task_id, offer in fact.offers.items()
        if task_id not in fact.answers and offer.deadline < now
    ]


def next_deadline(fact: Fact, now: datetime) -> datetime | None:
    """The earliest deadline still to come of an offer with no answer (when it would become overdue)."""
    waiting = [
        offer.deadline
        for task_id, offer in fact.offers.items()
        if task_id not in fact.answers and offer.deadline >= now
    ]
    return min(waiting, default=None)


def patrol_figure(tier: str) -> str:
    """The figure a patrol report of this tier counts as."""
    return f"patrol:{tier}"


def tally_of(figures: Mapping[str, float]) -> Tally:
    """A township's tally from its summed figures."""
    return Tally(
        submitted=int(figures.get("submitted", 0)),
        offers=int(figures.get("offers", 0)),
        offers_accepted_in_time=int(figures.get("offers_in_time", 0)),
        activities=int(figures.get("activities", 0)),
        participations=int(figures.get("participations", 0)),
        people_served=int(figures.get("people_served", 0)),
        hours=float(figures.get("hours", 0.0)),
        lectures=int(figures.get("lectures", 0)),
        lecture_audience=int(figures.get("lecture_audience", 0)),
        ratings=int(figures.get("ratings", 0)),
        ratings_satisfied=int(figures.get("ratings_satisfied", 0)),
        patrol_reports={tier: int(figures.get(patrol_figure(tier), 0)) for tier in PATROL_TIERS},
    )


def report(figures: Mapping[str, Mapping[str, float]], period: Period, township: str | None = None) -> Report:
    """The county report from each township's figures of the period: all 14 unless one is asked for."""
    names = [township] if township else list(TOWNSHIPS)
    tallies = {name: tally_of(figures.get(name, {})) for name in names}
    if not township:
        for name, summed in figures.items():
            tallies.setdefault(name, tally_of(summed))
    total = Tally()
    for tally in tallies.values():
        total.add(tally)
    return Report(period=period, township=township, townships=tallies, total=total)


def aggregate(
    submissions: Iterable[SubmittedRequest],
    facts: Iterable[Fact],
    patrols: Iterable[FiledReport],
    period: Period,
    township: str | None = None,
) -> Report:
    """The county report of a period computed from every fact at once (the reference the rollups keep)."""
    summed: dict[str, dict[str, float]] = {}

    def count(name: str, moment: datetime, figure: str, amount: float) -> None:
        if period.holds(moment) and (township is None or name == township):
            target = summed.setdefault(name, {})
            target[figure] = target.get(figure, 0) + amount

    for submission in submissions:
        count(submission.township, submission.submitted_at, "submitted", 1)
    for fact in facts:
        for moment, figure, amount in fact_figures(fact):
            count(fact.township, moment, figure, amount)
    for filed in patrols:
        count(filed.township, filed.reported_at, patrol_figure(filed.tier), 1)
    return report(summed, period, township)
