"""Demo data for Gutian County (`civicloop demo load`), loaded through the gateway like any client would."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import click
import requests

from services.common.auth import issue_token
from services.common.county import TOWNSHIPS

COUNTY_CORPS = "古田县新时代文明实践志愿服务总队"
# 289 village or community stations, spread over the 14 townships.
STATIONS_PER_TOWNSHIP = dict(
    zip(TOWNSHIPS, (22, 20, 28, 24, 23, 25, 22, 18, 17, 19, 17, 14, 16, 24), strict=True)
)
FAMILY_EDUCATION_STATIONS = 108
VILLAGE_WORDS = (
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
    "长洋",
    "凤阳",
    "龙潭",
    "茶园",
    "枫林",
    "杉坪",
    "圳头",
    "厝前",
)
STANDING_TEAMS = (
    ("理论政策宣讲队", ["policy_lecture"]),
    ("文化文艺服务队", ["culture"]),
    ("卫生健康服务队", ["health_check", "elder_care"]),
    ("法律服务队", ["legal_aid"]),
    ("教育助学服务队", ["study_help", "family_education"]),
    ("生态环保服务队", ["environment"]),
    ("助老助残服务队", ["elder_care", "repairs"]),
    ("应急救援服务队", ["other", "repairs"]),
)
SUB_TEAMS = 300
LECTURE_BRAND_TEAMS = 29
SKILLS = (
    "elder_care",
    "tutoring",
    "family_education",
    "lecturing",
    "medical",
    "legal",
    "environment",
    "repairs",
    "culture",
)
SURNAMES = "陈林黄张李王吴刘蔡杨郑许谢余游罗魏彭"
GIVEN = (
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
)


class Gateway:
    """A thin authenticated client that waits out rate limits and brief outages."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One API call, retried on 429 and 503."""
        for attempt in range(8):
            response = requests.request(
                method, self.base_url + path, headers=self.headers, timeout=15, **kwargs
            )
            if response.status_code not in (429, 502, 503):
                return response
            time.sleep(min(0.2 * 2**attempt, 3))
        return response

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST and return the created resource; fails loudly on anything but 201."""
        response = self.call("POST", path, json=body)
        if response.status_code != 201:
            raise click.ClickException(f"POST {path} → {response.status_code}: {response.text[:300]}")
        return response.json()

    def first(self, path: str) -> dict[str, Any] | None:
        """The first item a list endpoint returns, or None."""
        response = self.call("GET", path, params={"limit": 1})
        response.raise_for_status()
        items = response.json()["items"]
        return items[0] if items else None


def _post_all(gateway: Gateway, path: str, bodies: list[dict[str, Any]], label: str) -> list[dict[str, Any]]:
    with ThreadPoolExecutor(max_workers=6) as pool, click.progressbar(length=len(bodies), label=label) as bar:
        results = []
        for result in pool.map(lambda body: gateway.post(path, body), bodies):
            results.append(result)
            bar.update(1)
    return results


def station_bodies(rng: random.Random) -> list[dict[str, Any]]:
    """289 village and community stations and 108 family-education guidance stations."""
    bodies = []
    for township_number, (township, count) in enumerate(STATIONS_PER_TOWNSHIP.items(), start=1):
        kind = "community" if township.endswith("街道") else "village"
        words = rng.sample(VILLAGE_WORDS, k=min(count, len(VILLAGE_WORDS)))
        for number in range(1, count + 1):
            stem = words[number - 1] if number <= len(words) else f"第{number}"
            suffix = "社区" if kind == "community" else "村"
            bodies.append(
                {
                    "code": f"S{township_number:02d}{number:03d}",
                    "name": f"{township}{stem}{suffix}新时代文明实践站",
                    "township": township,
                    "kind": kind,
                }
            )
    for number in range(1, FAMILY_EDUCATION_STATIONS + 1):
        township = TOWNSHIPS[(number - 1) % len(TOWNSHIPS)]
        bodies.append(
            {
                "code": f"F{number:03d}",
                "name": f"{township}家庭教育指导站（{(number - 1) // len(TOWNSHIPS) + 1}）",
                "township": township,
                "kind": "family_education",
            }
        )
    return bodies


def load_demo(gateway_url: str, secret: str, *, volunteer_count: int, echo: Callable[[str], None]) -> None:
    """Load the organisation (institutes, stations, teams), volunteers in teams, and pairings."""
    gateway = Gateway(gateway_url, issue_token(secret, sub="demo-loader", role="admin"))
    # The demo's own county corps marks it loaded: stations or teams made by hand do not.
    corps_teams = gateway.call("GET", "/api/v1/teams", params={"kind": "county_corps", "limit": 100})
    corps_teams.raise_for_status()
    if any(team["name"] == COUNTY_CORPS for team in corps_teams.json()["items"]):
        echo("demo data: already loaded (make clean to start afresh)")
        return
    rng = random.Random(1129)
    institutes = _put_institutes(gateway)
    stations = _post_all(gateway, "/api/v1/stations", station_bodies(rng), "stations  ")
    corps = gateway.post(
        "/api/v1/teams",
        {"name": COUNTY_CORPS, "kind": "county_corps", "townships": list(TOWNSHIPS)},
    )
    standing = _post_all(
        gateway,
        "/api/v1/teams",
        [
            {
                "name": name,
                "kind": "standing",
                "parent_id": corps["id"],
                "townships": list(TOWNSHIPS),
                "categories": categories,
            }
            for name, categories in STANDING_TEAMS
        ],
        "teams     ",
    )
    sub_bodies = []
    for number in range(SUB_TEAMS):
        parent = standing[number % len(standing)]
        township = TOWNSHIPS[number % len(TOWNSHIPS)]
        sub_bodies.append(
            {
                "name": f"{township}{parent['name'].removesuffix('队')}分队{number // len(TOWNSHIPS) + 1}",
                "kind": "sub_team",
                "parent_id": parent["id"],
                "townships": [township],
                "categories": parent["categories"],
            }
        )
    sub_teams = _post_all(gateway, "/api/v1/teams", sub_bodies, "sub-teams ")
    lecture_teams = _post_all(
        gateway,
        "/api/v1/teams",
        [
            {
                "name": f"{TOWNSHIPS[n % len(TOWNSHIPS)]}{rng.choice(VILLAGE_WORDS)}宣讲团",
                "kind": "lecture_brand",
                "parent_id": standing[0]["id"],
                "townships": [TOWNSHIPS[n % len(TOWNSHIPS)]],
                "categories": ["policy_lecture"],
            }
            for n in range(LECTURE_BRAND_TEAMS)
        ],
        "lecturers ",
    )
    stations_by_township: dict[str, list[dict[str, Any]]] = {}
    for station in stations:
        if station["kind"] != "family_education":
            stations_by_township.setdefault(station["township"], []).append(station)
    sub_teams_by_township: dict[str, list[str]] = {}
    for team in sub_teams:
        sub_teams_by_township.setdefault(team["townships"][0], []).append(team["id"])
    volunteers = []
    for number in range(volunteer_count):
        township = TOWNSHIPS[number % len(TOWNSHIPS)]
        station = rng.choice(stations_by_township[township])
        volunteers.append(
            {
                "name": rng.choice(SURNAMES) + rng.choice(GIVEN),
                "phone": f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}",
                "township": township,
                "station_id": station["id"],
                "skills": sorted(
                    rng.sample(SKILLS, k=rng.randint(1, 3)) + (["elder_care"] if number % 3 == 0 else [])
                ),
                "capacity": rng.choice((1, 2, 2, 3)),
            }
        )
    for body in volunteers:
        body["skills"] = sorted(set(body["skills"]))
    registered = _post_all(gateway, "/api/v1/volunteers", volunteers, "volunteers")
    members = team_members(registered, sub_teams_by_township, standing, corps["id"], lecture_teams)
    _fill_teams(gateway, members)
    pairings = _pair_volunteers(gateway, registered, rng)
    teams = 1 + len(standing) + len(sub_teams) + LECTURE_BRAND_TEAMS
    counts = (
        f"{institutes} institutes, {len(stations)} stations, {teams} teams, {len(volunteers)} volunteers, "
        f"{pairings} pairings"
    )
    echo(f"demo data: {counts} in {len(TOWNSHIPS)} townships")


# --- the organisation and pairing (issue 6) --------------------------------------------------------
BENEFICIARY_FLAGS = (
    ["living_alone", "elderly"],
    ["bereaved_only_child", "elderly"],
    ["disabled"],
    ["living_alone", "sick"],
)


def _call_all(gateway: Gateway, calls: list[tuple[str, str, dict[str, Any]]], label: str) -> None:
    """Run (method, path, body) calls six at a time; fail loudly on any refusal."""

    def one(call: tuple[str, str, dict[str, Any]]) -> None:
        method, path, body = call
        response = gateway.call(method, path, json=body)
        if not response.ok:
            raise click.ClickException(f"{method} {path} → {response.status_code}: {response.text[:300]}")

    with ThreadPoolExecutor(max_workers=6) as pool, click.progressbar(length=len(calls), label=label) as bar:
        for _ in pool.map(one, calls):
            bar.update(1)


def _put_institutes(gateway: Gateway) -> int:
    """The 14 township institutes under the county centre."""
    calls = [("PUT", f"/api/v1/organisation/institutes/{township}", {}) for township in TOWNSHIPS]
    _call_all(gateway, calls, "institutes")
    return len(calls)


LECTURE_TEAM_SIZE = 3


def team_members(
    volunteers: list[dict[str, Any]],
    sub_teams_by_township: dict[str, list[str]],
    standing: list[dict[str, Any]],
    corps_id: str,
    lecture_teams: list[dict[str, Any]],
) -> dict[str, list[str]]:
    """Every team's members, its leader first, as the county's teams are: nobody's offer goes unanswered.

    A township's volunteers and its sub-teams are dealt round-robin, so each sub-team gets at least
    one member while there are volunteers; each standing team takes one volunteer of every township
    (its leader from the first), the corps is led by the standing teams' leaders, and each lecture
    team takes a few of its township's volunteers, lecturers first.
    """
    by_township: dict[str, list[dict[str, Any]]] = {}
    for volunteer in volunteers:
        by_township.setdefault(volunteer["township"], []).append(volunteer)
    members: dict[str, list[str]] = {}

    def join(team_id: str, volunteer_id: str) -> None:
        if volunteer_id not in members.setdefault(team_id, []):
            members[team_id].append(volunteer_id)

    for township, people in by_township.items():
        teams = sub_teams_by_township.get(township, [])
        for number in range(max(len(people), len(teams)) if teams else 0):
            join(teams[number % len(teams)], people[number % len(people)]["id"])
    for rank, team in enumerate(standing):
        for township in TOWNSHIPS:
            people = by_township.get(township, [])
            if people:
                join(team["id"], people[rank % len(people)]["id"])
    for team in standing:
        if members.get(team["id"]):
            join(corps_id, members[team["id"]][0])
    for team in lecture_teams:
        people = sorted(
            by_township.get(team["townships"][0], []), key=lambda v: "lecturing" not in v["skills"]
        )
        for volunteer in people[:LECTURE_TEAM_SIZE]:
            join(team["id"], volunteer["id"])
    return members


def _fill_teams(gateway: Gateway, members: dict[str, list[str]]) -> None:
    """Put every member in their team, then make the first member of each team its leader."""
    calls = [
        ("POST", f"/api/v1/teams/{team_id}/members", {"volunteer_id": volunteer_id})
        for team_id, people in members.items()
        for volunteer_id in people
    ]
    _call_all(gateway, calls, "members   ")
    calls = [("PATCH", f"/api/v1/teams/{team}", {"leader_id": people[0]}) for team, people in members.items()]
    _call_all(gateway, calls, "leaders   ")


def _pair_volunteers(gateway: Gateway, volunteers: list[dict[str, Any]], rng: random.Random) -> int:
    """One beneficiary per township, paired with one or two elder-care volunteers; first visit tomorrow."""
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0).isoformat()
    made = 0
    for number, township in enumerate(TOWNSHIPS):
        carers = [v["id"] for v in volunteers if v["township"] == township and "elder_care" in v["skills"]]
        if not carers:
            continue
        beneficiary = gateway.post(
            "/api/v1/beneficiaries",
            {
                "name": rng.choice(SURNAMES) + "阿婆",
                "township": township,
                "village": rng.choice(VILLAGE_WORDS) + "村",
                "flags": BENEFICIARY_FLAGS[number % len(BENEFICIARY_FLAGS)],
            },
        )
        gateway.post(
            "/api/v1/pairings",
            {
                "beneficiary_id": beneficiary["id"],
                "volunteer_ids": carers[: 1 + number % 2],
                "every_days": 7,
                "first_visit_at": tomorrow,
            },
        )
        made += 1
    return made
