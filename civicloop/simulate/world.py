"""The county's people and organisation, registered through the gateway as staff would at the start."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any

from civicloop.simulate.gateway import Gateway
from civicloop.simulate.scenario import SKILL_OF, Scenario

ADMIN = ("sim-admin", "admin")
SKILLS = tuple(dict.fromkeys(SKILL_OF.values()))
VILLAGE_WORDS = [
    "溪口",
    "上坪",
    "下洋",
    "东山",
    "西岭",
    "后垄",
    "前洋",
    "岭头",
    "坑里",
    "洋中",
    "湖滨",
    "桥头",
    "新村",
    "竹林",
    "松溪",
    "梅岭",
    "石门",
    "水尾",
    "岩前",
    "福田",
]
SURNAMES = "陈林黄张李王吴刘蔡杨郑许谢余游罗魏彭"
GIVEN = [
    "志明",
    "小红",
    "建华",
    "秀英",
    "国强",
    "丽娟",
    "文杰",
    "美玲",
    "海峰",
    "春燕",
    "德福",
    "雅琴",
    "宏伟",
    "玉兰",
    "俊杰",
    "淑芬",
    "晓东",
    "凤英",
    "金水",
    "慧敏",
]


@dataclass
class World:
    """Who is who in the simulated county (ids the platform gave), kept in the run's state."""

    volunteers: dict[str, dict[str, Any]] = field(default_factory=dict)
    teams: dict[str, dict[str, Any]] = field(default_factory=dict)
    villages: dict[str, list[str]] = field(default_factory=dict)
    stewards: dict[str, list[str]] = field(default_factory=dict)
    pairings: list[dict[str, Any]] = field(default_factory=list)

    def of_township(self, township: str, skill: str | None = None) -> list[str]:
        """Volunteers of a township (with a skill)."""
        return [
            v
            for v, info in self.volunteers.items()
            if info["township"] == township and (skill is None or skill in info["skills"])
        ]

    def with_skill(self, skill: str) -> list[str]:
        return [v for v, info in self.volunteers.items() if skill in info["skills"]]

    def leader_of(self, team_id: str) -> str | None:
        team = self.teams.get(team_id)
        return team.get("leader") if team else None


def _parallel(function: Callable[[Any], Any], items: Iterable[Any], workers: int = 8) -> list[Any]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, items))


def village_names(scenario: Scenario) -> dict[str, list[str]]:
    """The stations' villages (or communities) of each township."""
    names: dict[str, list[str]] = {}
    for township in scenario.townships:
        suffix = "社区" if township.community else "村"
        names[township.name] = [
            VILLAGE_WORDS[n % len(VILLAGE_WORDS)]
            + (str(n // len(VILLAGE_WORDS)) if n >= len(VILLAGE_WORDS) else "")
            + suffix
            for n in range(township.stations)
        ]
    return names


def build(
    gateway: Gateway, scenario: Scenario, seed: int, speed: float, echo: Callable[[str], None]
) -> World:
    """Register the organisation, the volunteers in their teams, stewards and pairings; set the policy."""
    rng = random.Random(f"{seed}:world")
    world = World(villages=village_names(scenario))
    started = time.monotonic()
    _parallel(
        lambda name: gateway.call("PUT", f"/api/v1/organisation/institutes/{name}", ADMIN, json={}),
        scenario.township_names,
    )
    stations = [
        {
            "code": f"S{t:02d}{n:03d}",
            "name": f"{tw.name}{village}新时代文明实践站",
            "township": tw.name,
            "kind": "community" if tw.community else "village",
        }
        for t, tw in enumerate(scenario.townships, start=1)
        for n, village in enumerate(world.villages[tw.name], start=1)
    ]
    stations += [
        {
            "code": f"F{n:03d}",
            "name": f"家庭教育指导站{n}",
            "township": scenario.township_names[n % len(scenario.townships)],
            "kind": "family_education",
        }
        for n in range(1, scenario.family_education_stations + 1)
    ]
    created_stations = _parallel(lambda body: gateway.created("/api/v1/stations", ADMIN, body), stations)
    # A volunteer names their station by its id (the one station identity).
    station_ids = {(station["township"], station["name"]): station["id"] for station in created_stations}
    names = scenario.township_names
    corps = gateway.created(
        "/api/v1/teams", ADMIN, {"name": scenario.teams.corps, "kind": "county_corps", "townships": names}
    )
    world.teams[corps["id"]] = {"kind": "county_corps", "townships": names, "categories": [], "members": []}
    standing = _parallel(
        lambda team: gateway.created(
            "/api/v1/teams",
            ADMIN,
            {
                "name": team.name,
                "kind": "standing",
                "parent_id": corps["id"],
                "townships": names,
                "categories": team.categories,
            },
        ),
        scenario.teams.standing,
    )
    bodies = []
    for number in range(scenario.teams.sub_teams):
        parent = standing[number % len(standing)]
        township = names[number % len(names)]
        bodies.append(
            {
                "name": f"{township}{parent['name'].removesuffix('队')}分队{number // len(names) + 1}",
                "kind": "sub_team",
                "parent_id": parent["id"],
                "townships": [township],
                "categories": parent["categories"],
            }
        )
    lecture_parent = next((t for t in standing if "policy_lecture" in t["categories"]), standing[0])
    for number in range(scenario.teams.lecture_brand):
        township = names[number % len(names)]
        bodies.append(
            {
                "name": f"{township}{rng.choice(VILLAGE_WORDS)}宣讲团{number + 1}",
                "kind": "lecture_brand",
                "parent_id": lecture_parent["id"],
                "townships": [township],
                "categories": ["policy_lecture"],
            }
        )
    for team in [*standing, *_parallel(lambda body: gateway.created("/api/v1/teams", ADMIN, body), bodies)]:
        world.teams[team["id"]] = {
            "kind": team["kind"],
            "townships": team["townships"],
            "categories": team["categories"],
            "members": [],
        }
    echo(
        f"  organisation: {len(scenario.townships)} institutes, {len(stations)} stations, "
        f"{len(world.teams)} teams"
    )

    local_teams: dict[str, list[str]] = {}
    for team_id, team in world.teams.items():
        if team["kind"] in ("sub_team", "lecture_brand"):
            local_teams.setdefault(team["townships"][0], []).append(team_id)
    standing_ids = [t["id"] for t in standing]
    volunteers = []
    for tw in scenario.townships:
        for number in range(tw.volunteers):
            # Every township has every skill: the first volunteers take them in turn.
            skills = {
                SKILLS[number % len(SKILLS)],
                *rng.sample(SKILLS, k=rng.randint(*scenario.skills_per_volunteer) - 1),
            }
            teams = [rng.choice(local_teams[tw.name])] if local_teams.get(tw.name) else []
            matching = [
                t for t in standing_ids if {SKILL_OF[c] for c in world.teams[t]["categories"]} & skills
            ]
            teams += rng.sample(matching, k=min(1, len(matching)))
            volunteers.append(
                {
                    "name": rng.choice(SURNAMES) + rng.choice(GIVEN),
                    "phone": f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}",
                    "township": tw.name,
                    "station_id": station_ids[
                        (tw.name, f"{tw.name}{rng.choice(world.villages[tw.name])}新时代文明实践站")
                    ],
                    "skills": sorted(skills),
                    "team_ids": teams,
                    "capacity": rng.choice(scenario.capacity),
                }
            )
    for created in _parallel(lambda body: gateway.created("/api/v1/volunteers", ADMIN, body), volunteers):
        world.volunteers[created["id"]] = {
            "township": created["township"],
            "skills": created["skills"],
            "teams": created["team_ids"],
        }
    memberships = [(team, v) for v, info in world.volunteers.items() for team in info["teams"]]
    _parallel(
        lambda pair: gateway.call(
            "POST", f"/api/v1/teams/{pair[0]}/members", ADMIN, json={"volunteer_id": pair[1]}
        ),
        memberships,
    )
    for team, volunteer in memberships:
        world.teams[team]["members"].append(volunteer)
    leaders = [(team_id, team["members"][0]) for team_id, team in world.teams.items() if team["members"]]
    _parallel(
        lambda pair: gateway.call("PATCH", f"/api/v1/teams/{pair[0]}", ADMIN, json={"leader_id": pair[1]}),
        leaders,
    )
    for team_id, leader in leaders:
        world.teams[team_id]["leader"] = leader
    echo(f"  people: {len(world.volunteers)} volunteers in their teams, {len(leaders)} team leaders")

    for t, tw in enumerate(scenario.townships):
        world.stewards[tw.name] = [f"steward-{t:02d}-{n}" for n in range(scenario.stewards_per_township)]
    _pair(gateway, scenario, world, rng)
    set_policy(gateway, scenario, speed)
    # Dispatch learns the volunteers from their events: wait until it knows the last one registered.
    last = list(world.volunteers)[-1]
    deadline = time.monotonic() + 300
    while gateway.get_json(f"/api/v1/dispatch/volunteers/{last}", ADMIN) is None:
        if time.monotonic() > deadline:
            raise RuntimeError("dispatch did not learn of the volunteers within 5 minutes")
        time.sleep(0.5)
    echo(f"  ready in {time.monotonic() - started:.0f} s; {len(world.pairings)} pairings")
    return world


def _pair(gateway: Gateway, scenario: Scenario, world: World, rng: random.Random) -> None:
    """Beneficiaries paired with elder-care volunteers of their township, visits on a schedule."""
    names = scenario.township_names
    first_due = scenario.start.astimezone(UTC) + timedelta(days=1, hours=9)
    for number in range(scenario.pairings.count):
        township = names[number % len(names)]
        carers = world.of_township(township, "elder_care")
        if not carers:
            continue
        resident = f"beneficiary-{number:03d}"
        beneficiary = gateway.created(
            "/api/v1/beneficiaries",
            ADMIN,
            {
                "name": rng.choice(SURNAMES) + "阿婆",
                "township": township,
                "village": rng.choice(world.villages[township]),
                "flags": ["living_alone", "elderly"],
                "resident_id": resident,
            },
        )
        # The first visits are spread over the first cycle, as pairings begin on different days.
        first = first_due + timedelta(days=rng.uniform(0, scenario.pairings.every_days - 1))
        pairing = gateway.created(
            "/api/v1/pairings",
            ADMIN,
            {
                "beneficiary_id": beneficiary["id"],
                "volunteer_ids": rng.sample(carers, k=min(len(carers), 1 + number % 2)),
                "every_days": scenario.pairings.every_days,
                "grace_hours": scenario.pairings.grace_hours,
                "first_visit_at": first.isoformat(),
            },
        )
        world.pairings.append(
            {
                "id": pairing["id"],
                "resident": resident,
                "township": township,
                "first_visit_at": first.isoformat(),
                "every_days": scenario.pairings.every_days,
                "volunteer_ids": pairing["volunteer_ids"],
            }
        )


def expiry_grace(speed: float) -> float:
    """The dispatch policy's grace after an offer's deadline, in simulated seconds.

    It lets an answer given at the deadline travel to dispatch before the offer is taken back; that
    travel takes real seconds, so at a higher speed it is more simulated time (at most the policy's hour).
    """
    return min(3600.0, max(30.0, 3.0 * speed))


def set_policy(gateway: Gateway, scenario: Scenario, speed: float) -> None:
    """The scenario's dispatch policy on top of the platform's, with a grace fit for the clock's speed."""
    current = gateway.get_json("/api/v1/dispatch/policy", ADMIN)
    assert current is not None
    policy = {
        **current["policy"],
        **scenario.policy,
        "expiry_grace_seconds": expiry_grace(speed),
        "expected_version": current["version"],
    }
    response = gateway.call("PUT", "/api/v1/dispatch/policy", ADMIN, json=policy)
    if not response.ok:
        raise RuntimeError(f"PUT policy → {response.status_code}: {response.text[:300]}")
