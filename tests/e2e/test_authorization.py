"""The authorization matrix through the gateway, against real records (tests/authz_matrix.yaml).

Three worlds of records are built through the API as people would make them: one owned by the
callers themselves in this township (泮洋乡), one of other people in this township, one of other
people in another township (大甲镇) — orders served and rated, tasks of volunteers and of teams,
hours, patrol reports, wishes, beneficiaries, pairings and their visits, follow-ups. Then every cell
of the matrix is sent through the gateway and its answer compared with the table.

The callers hold the tokens main's accounts service issues: each logged in (residents by a code to
their phone, everyone else by password), RS256 with a session, so the session-bound routes of
accounts are reached as a person would reach them.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
import requests

from services.common.ids import isoformat, new_id, utcnow
from tests.authz import ROLES, Row, fill, load_matrix, matches
from tests.e2e.conftest import Gateway
from tests.e2e.test_accounts_flow import PASSWORD, create_account, resident_login
from tests.e2e.test_loop import current_offer, service_code, wait_in_inbox
from tests.support import PROFILE, wait_until

pytestmark = pytest.mark.e2e
HERE, THERE = "泮洋乡", "大甲镇"


class Builder:
    """Makes records through the gateway as an admin, failing loudly on any refusal."""

    def __init__(self, gateway: Gateway, admin: dict[str, str]) -> None:
        self.gateway = gateway
        self.admin = admin

    def post(self, path: str, body: dict[str, Any], who: dict[str, str] | None = None) -> dict[str, Any]:
        response = self.gateway.post(path, who or self.admin, json=body)
        assert response.status_code in (200, 201), f"{path}: {response.status_code} {response.text[:300]}"
        return response.json()

    def get(self, path: str, who: dict[str, str] | None = None, **params: Any) -> dict[str, Any]:
        response = self.gateway.get(path, who or self.admin, params=params)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:300]}"
        return response.json()


# Each world's categories are served by its own volunteer and team only: no other test's people are
# in these townships with these skills, and the demo's teams there have no leader.
WORLDS = {
    "own": {"township": HERE, "tag": "甲", "skill": "elder_care", "team_category": "environment"},
    "others": {"township": HERE, "tag": "乙", "skill": "repairs", "team_category": "culture"},
    "elsewhere": {"township": THERE, "tag": "丙", "skill": "elder_care", "team_category": "environment"},
}


def _people(build: Builder, spec: dict[str, str]) -> dict[str, Any]:
    """A world's station, volunteer, team (led by the volunteer, with a member), resident and steward."""
    township, tag = spec["township"], spec["tag"]
    village = f"{tag}{new_id()[-4:]}村"
    station = build.post(
        "/api/v1/stations",
        {
            "code": f"AZ-{new_id()}",
            "name": f"{township}{village}新时代文明实践站",
            "township": township,
            "kind": "village",
        },
    )
    volunteer = build.post(
        "/api/v1/volunteers",
        {
            "name": f"{tag}志愿者",
            "township": township,
            "skills": [spec["skill"]],
            "station_id": station["id"],
            "capacity": 9,
        },
    )["id"]
    member = build.post(
        "/api/v1/volunteers", {"name": f"{tag}队员", "township": township, "skills": ["authz"]}
    )["id"]
    team = build.post(
        "/api/v1/teams",
        {
            "name": f"{tag}服务队",
            "kind": "county_corps",
            "townships": [township],
            "categories": [spec["team_category"]],
        },
    )["id"]
    build.post(f"/api/v1/teams/{team}/members", {"volunteer_id": member})
    led = build.gateway.call("PATCH", f"/api/v1/teams/{team}", build.admin, json={"leader_id": volunteer})
    assert led.status_code == 200, led.text
    resident = resident_login(_fresh_phone())
    steward = create_account(
        build.gateway,
        build.admin,
        {
            "username": f"az.steward.{new_id()[-10:].lower()}",
            "role": "steward",
            "display_name": f"{tag}管家",
            "township": township,
        },
    )
    volunteer_account = create_account(
        build.gateway,
        build.admin,
        {
            "username": f"az.vol.{new_id()[-10:].lower()}",
            "role": "volunteer",
            "display_name": f"{tag}志愿者",
            "volunteer_id": volunteer,
        },
    )
    # An account of this world that no caller logs in with: the target of admins' account changes.
    target = create_account(
        build.gateway,
        build.admin,
        {
            "username": f"az.target.{new_id()[-10:].lower()}",
            "role": "steward",
            "display_name": f"{tag}目标",
            "township": township,
        },
    )
    return {
        "township": township,
        "village": village,
        "account_id": target["id"],
        "steward_login": steward["username"],
        "volunteer_login": volunteer_account["username"],
        "resident_token": {"Authorization": f"Bearer {resident.token}"},
        "station_id": station["id"],
        "volunteer_id": volunteer,
        "member_id": member,
        "team_id": team,
        "resident_sub": resident.call("GET", "/api/v1/auth/me").json()["account"]["subject"],
        "steward_sub": steward["subject"],
    }


def _fresh_phone() -> str:
    """A mobile number no earlier run used (codes to one phone are throttled)."""
    return f"139{random.randrange(10**8):08d}"


def login(gateway: Gateway, username: str) -> dict[str, str]:
    """The Authorization header of a password login, as the console holds it.

    Not through the gateway fixture's session: its cookie jar would keep the login's live cookie, and
    the matrix's call of the live stream would then open a stream that never ends.
    """
    answer = requests.post(
        gateway.base_url + "/api/v1/auth/login", json={"username": username, "password": PASSWORD}, timeout=15
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _order(build: Builder, world: dict[str, Any], category: str) -> str:
    body = {
        "category": category,
        "title": "授权矩阵",
        "description": "矩阵里的一单",
        "township": world["township"],
        "village": world["village"],
        "contact_phone": "13700001111",
    }
    return build.post("/api/v1/requests", body, world["resident_token"])["id"]


def _records(build: Builder, world: dict[str, Any], spec: dict[str, str]) -> None:
    """The world's records: an order served and rated 1, hours, a patrol, a wish, a pairing and its visit."""
    gateway, admin = build.gateway, build.admin
    resident = world["resident_token"]
    request_id = _order(build, world, spec["skill"])
    offered_to, task_id = current_offer(gateway, admin, request_id, 1)
    assert offered_to == world["volunteer_id"], "the world's volunteer is the only one who can serve it"
    volunteer = login(gateway, world["volunteer_login"])
    wait_in_inbox(gateway, volunteer, task_id)
    assert gateway.post(f"/api/v1/tasks/{task_id}/accept", volunteer).status_code == 200
    code = service_code(gateway, resident, request_id)
    for step in ("check-in", "complete"):
        answer = gateway.post(f"/api/v1/tasks/{task_id}/{step}", volunteer, json={"code": code})
        assert answer.status_code == 200, answer.text
    wait_until(
        lambda: (
            gateway.post("/api/v1/ratings", resident, json={"request_id": request_id, "score": 1}).status_code
            == 201
        ),
        what="the rating",
    )
    entries = wait_until(lambda: build.get(f"/api/v1/volunteers/{offered_to}/hours")["entries"], what="hours")
    steward = login(gateway, world["steward_login"])
    report = build.post(
        "/api/v1/patrols",
        {
            "location": {"township": world["township"], "village": world["village"]},
            "description": "井盖松动",
            "tier": "reported_to_community",
            "category": "legal_aid",  # held for review: it takes no volunteer's offer
        },
        steward,
    )
    wish = build.post(
        "/api/v1/wishes",
        {
            "beneficiary": {"name": "张奶奶", "township": world["township"], "village": world["village"]},
            "title": "一台收音机",
            "description": "想听戏",
        },
    )
    beneficiary = build.post(
        "/api/v1/beneficiaries",
        {
            "name": "陈阿婆",
            "township": world["township"],
            "village": world["village"],
            "resident_id": world["resident_sub"],
        },
    )
    first_visit = isoformat(utcnow() - timedelta(minutes=1))
    pairing = build.post(
        "/api/v1/pairings",
        {
            "beneficiary_id": beneficiary["id"],
            "volunteer_ids": [world["volunteer_id"]],
            "first_visit_at": first_visit,
        },
    )
    form = {
        "api_key": PROFILE["CIVICLOOP_OPEN311_API_KEY"],
        "service_code": "legal_aid",
        "description": "楼道灯坏了",
        "address_string": "村委会旁",
        "attribute[township]": world["township"],
        "attribute[village]": world["village"],
    }
    posted = gateway.post("/open311/v2/requests.json", data=form)
    assert posted.status_code == 201, posted.text
    world.update(
        request_id=request_id,
        followup_id=request_id,
        service_request_id=request_id,
        task_id=task_id,
        checkin_code=code,
        entry_id=entries[0]["id"],
        report_id=report["id"],
        patrol_request_id=report["request_id"],
        wish_id=wish["id"],
        beneficiary_id=beneficiary["id"],
        pairing_id=pairing["id"],
        token=posted.json()[0]["token"],
    )


def _team_offer(build: Builder, world: dict[str, Any], spec: dict[str, str]) -> None:
    """An order only the world's team covers: its offer lands in the leader's team inbox."""
    request_id = _order(build, world, spec["team_category"])

    def offer() -> dict[str, Any] | None:
        job = build.gateway.get(f"/api/v1/dispatch/{request_id}", build.admin)
        attempts = job.json().get("attempts") if job.ok else None
        return attempts[0] if attempts else None

    attempt = wait_until(offer, what="the team's offer")
    assert attempt["team_id"] == world["team_id"], attempt
    world["team_task_id"] = attempt["task_id"]


def _notice(build: Builder, world: dict[str, Any]) -> None:
    """A notice of the world's volunteer (their offers): the record of the notices' row."""
    volunteer = login(build.gateway, world["volunteer_login"])
    notices = wait_until(lambda: build.get("/api/v1/notifications", volunteer)["items"], what="a notice")
    world["notice_id"] = notices[0]["id"]


def _visit(build: Builder, world: dict[str, Any]) -> None:
    def made() -> str | None:
        visits = build.get("/api/v1/visits", township=world["township"], limit=100)["items"]
        return next((v["id"] for v in visits if v["pairing_id"] == world["pairing_id"]), None)

    world["visit_id"] = wait_until(made, timeout=40, what="the pairing's first visit")


@pytest.fixture(scope="module")
def worlds(gateway: Gateway, admin: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The three worlds; volunteers known to dispatch before their orders are placed."""
    build = Builder(gateway, admin)
    made = {name: _people(build, spec) for name, spec in WORLDS.items()}
    for world in made.values():
        volunteer = world["volunteer_id"]
        wait_until(lambda v=volunteer: gateway.get(f"/api/v1/dispatch/volunteers/{v}", admin).ok)
    for name, world in made.items():
        _records(build, world, WORLDS[name])
    for name, world in made.items():
        _team_offer(build, world, WORLDS[name])
        _visit(build, world)
        _notice(build, world)
    common = {
        "fmt": "json",
        "api_key": PROFILE["CIVICLOOP_OPEN311_API_KEY"],
        "category": "elder_care",
        "password": PASSWORD,
    }
    for world in made.values():
        world.update(common)
    return made


def principals(
    gateway: Gateway, admin: dict[str, str], worlds: dict[str, dict[str, Any]]
) -> dict[str, dict[str, str]]:
    """Each role's Authorization header from a login; the owners of the "own" world are the callers."""
    own = worlds["own"]
    staff = {}
    for role, account, township in (
        ("dispatcher", "dispatcher", HERE),
        ("dispatcher_elsewhere", "dispatcher", THERE),
        ("admin", "admin", None),
    ):
        body = {"username": f"az.{account}.{new_id()[-10:].lower()}", "role": account, "display_name": role}
        made = create_account(gateway, admin, {**body, **({"township": township} if township else {})})
        staff[role] = login(gateway, made["username"])
    return {
        "anonymous": {},
        "resident": own["resident_token"],
        "volunteer": login(gateway, own["volunteer_login"]),
        "steward": login(gateway, own["steward_login"]),
        **staff,
    }


def _world_for(worlds: dict[str, dict[str, Any]], role: str, ownership: str | None) -> dict[str, Any]:
    world = dict(worlds[ownership or "own"])
    if role == "steward" and ownership == "own":
        world["request_id"] = world["patrol_request_id"]  # a steward's own order is their report's
    world["unique"] = f"AZ-{new_id()}"
    world["fresh_phone"] = _fresh_phone()
    return world


def _call(gateway: Gateway, row: Row, who: dict[str, str], world: dict[str, Any]) -> int:
    values = {**world, **{name: world[source] for name, source in row.params.items()}}
    path = fill(row.path, values)
    kwargs: dict[str, Any] = {"params": fill(row.query, world)}
    if row.body is not None:
        kwargs["json"] = fill(row.body, world)
    if row.form is not None:
        kwargs["data"] = fill(row.form, world)
    # Headers only: an answer that streams (the live stream, were a cookie to let it) must not hold the test.
    with gateway.call(row.method, path, who, stream=True, **kwargs) as answer:
        return answer.status_code


def test_every_cell_of_the_matrix(gateway: Gateway, admin: dict[str, str], worlds: dict[str, dict[str, Any]]):
    """Every route × role × ownership answers as tests/authz_matrix.yaml says."""
    who = principals(gateway, admin, worlds)
    assert set(who) == set(ROLES)
    wrong, cells = [], 0
    # Logging out ends the callers' sessions: that row goes last.
    rows = sorted(load_matrix().values(), key=lambda row: row.route == "POST /api/v1/auth/logout")
    for row in rows:
        for cell in row.cells():
            status = _call(gateway, row, who[cell.role], _world_for(worlds, cell.role, cell.ownership))
            cells += 1
            if not matches(cell.expected, status):
                wrong.append(
                    f"{cell.route} as {cell.role} on {cell.ownership or '-'}: {status}, not {cell.expected}"
                )
    print(f"authorization matrix: {cells} cells, {len(wrong)} wrong")
    assert not wrong, "\n".join(wrong)
