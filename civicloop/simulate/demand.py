"""When the county asks for what: a year's demand spread over days, townships and hours, from a seed."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from civicloop.simulate.scenario import Scenario

# Orders come in the day, from 8:00 to 20:00 local time; patrols from 7:00 to 18:00.
DAY_HOURS = (8.0, 20.0)
PATROL_HOURS = (7.0, 18.0)


@dataclass(frozen=True)
class Arrival:
    """Something a person will do, unprompted, at a simulated moment."""

    key: str
    at: float  # simulated POSIX seconds
    kind: str  # order | lecture | patrol | wish
    category: str
    township: str
    village: str
    urgency: str = "normal"
    tier: str | None = None


def _factor(scenario: Scenario, category: str | None, day: date, patrol: bool = False) -> float:
    """How much busier than usual a day is for a category (festivals, seasons)."""
    factor = 1.0
    for festival in scenario.demand.festivals:
        if category in festival.categories and timedelta(0) < festival.date - day <= timedelta(
            days=festival.days_before
        ):
            factor *= festival.factor
    for season in scenario.demand.seasons:
        if day.month in season.months:
            if patrol:
                factor *= season.patrol_factor
            elif category in season.categories:
                factor *= season.factor
    return factor


def _normalised(scenario: Scenario, category: str | None, patrol: bool = False) -> float:
    """The mean factor over a year, so seasons move demand around without changing the year's total."""
    first = scenario.start.date()
    return sum(_factor(scenario, category, first + timedelta(days=d), patrol) for d in range(365)) / 365


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method for small means, a rounded normal for large ones)."""
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


def arrivals(scenario: Scenario, days: int, seed: int) -> list[Arrival]:
    """Everything people will start during `days` days from the scenario's start, in time order."""
    rng = random.Random(f"{seed}:demand")
    from civicloop.simulate.world import village_names

    villages = village_names(scenario)
    names = scenario.township_names
    weights = [township.weight for township in scenario.townships]
    urgencies = list(scenario.demand.urgency)
    urgency_weights = list(scenario.demand.urgency.values())
    streams: list[tuple[str, str, float, str | None]] = [
        ("order", category, yearly, None) for category, yearly in scenario.demand.orders.items()
    ]
    streams.append(("lecture", "policy_lecture", scenario.demand.lectures, None))
    streams += [("patrol", "", yearly, tier) for tier, yearly in scenario.demand.patrols.items()]
    streams.append(("wish", "other", scenario.demand.wishes, None))
    norms = {
        (kind, category): _normalised(scenario, category or None, patrol=kind == "patrol")
        for kind, category, _, _ in streams
    }
    found: list[tuple[float, str, str, str, str, str, str | None]] = []
    start = scenario.start
    for day in range(days):
        midnight = start + timedelta(days=day)
        for kind, category, yearly, tier in streams:
            factor = _factor(scenario, category or None, midnight.date(), patrol=kind == "patrol")
            count = _poisson(rng, yearly / 365 * factor / norms[(kind, category)])
            hours = PATROL_HOURS if kind == "patrol" else DAY_HOURS
            for _ in range(count):
                moment = midnight + timedelta(hours=rng.uniform(*hours))
                township = rng.choices(names, weights)[0]
                chosen = category or rng.choice(("environment", "repairs", "other"))
                urgency = rng.choices(urgencies, urgency_weights)[0] if kind == "order" else "normal"
                found.append(
                    (
                        moment.timestamp(),
                        kind,
                        chosen,
                        township,
                        rng.choice(villages[township]),
                        urgency,
                        tier,
                    )
                )
    found.sort(key=lambda item: item[0])
    return [
        Arrival(f"{kind[0]}{number:06d}", at, kind, category, township, village, urgency, tier)
        for number, (at, kind, category, township, village, urgency, tier) in enumerate(found)
    ]


def day_of(scenario: Scenario, moment: float) -> int:
    """Which simulated day (0-based) a moment falls on."""
    return int((moment - scenario.start.timestamp()) // 86400)


def as_datetime(moment: float) -> datetime:
    from datetime import UTC

    return datetime.fromtimestamp(moment, UTC)
