"""Demo logins for every role (`civicloop demo load`), made through the accounts API like any admin would."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import click

from civicloop.demo_loader import Gateway

# Known passwords, for the demo only: printed by `make run`, never used outside local profiles.
DEMO_PASSWORD = "gutian-demo-2026"
RESIDENT_PHONE = "13800000001"
STAFF = (
    ("admin", "admin", "县文明实践中心管理员", None),
    ("county.dispatch", "dispatcher", "县中心调度员", None),
    ("pinghu.dispatch", "dispatcher", "平湖镇调度员", "平湖镇"),
    ("pinghu.steward", "steward", "平湖镇小巷管家", "平湖镇"),
)


def _create(gateway: Gateway, body: dict[str, Any], patience: float = 0) -> str:
    """Make the account (an existing one is fine); wait while a volunteer is not yet known to accounts."""
    deadline = time.monotonic() + patience
    while True:
        response = gateway.call("POST", "/api/v1/accounts", json={**body, "password": DEMO_PASSWORD})
        if response.status_code in (201, 409):
            return "made" if response.status_code == 201 else "there"
        fields = (
            {error.get("field") for error in response.json().get("errors", [])} if response.content else set()
        )
        if response.status_code == 422 and "volunteer_id" in fields and time.monotonic() < deadline:
            time.sleep(1)  # the accounts worker learns volunteers from their events
            continue
        raise click.ClickException(f"POST /api/v1/accounts → {response.status_code}: {response.text[:300]}")


def load_accounts(gateway: Gateway, echo: Callable[[str], None]) -> list[tuple[str, str, str]]:
    """Staff, a steward, a volunteer and a team leader of 平湖镇; (username, role, what) of each."""
    made = []
    for username, role, name, township in STAFF:
        body = {"username": username, "role": role, "display_name": name}
        if township:
            body["township"] = township
        _create(gateway, body)
        made.append((username, role, f"{name}"))
    volunteers = gateway.call(
        "GET", "/api/v1/volunteers", params={"township": "平湖镇", "skill": "elder_care", "limit": 1}
    )
    if volunteers.ok and volunteers.json()["items"]:
        volunteer = volunteers.json()["items"][0]
        body = {
            "username": "pinghu.volunteer",
            "role": "volunteer",
            "display_name": volunteer["name"],
            "volunteer_id": volunteer["id"],
        }
        _create(gateway, body, patience=120)
        made.append(("pinghu.volunteer", "volunteer", f"{volunteer['name']}, elder care, 平湖镇"))
    teams = gateway.call("GET", "/api/v1/teams", params={"township": "平湖镇", "limit": 50})
    leaders = [team for team in (teams.json()["items"] if teams.ok else []) if team.get("leader_id")]
    if leaders:
        team = leaders[0]
        body = {
            "username": "pinghu.leader",
            "role": "volunteer",
            "display_name": f"{team['name']}队长",
            "volunteer_id": team["leader_id"],
        }
        _create(gateway, body, patience=120)
        made.append(("pinghu.leader", "volunteer", f"leader of {team['name']}"))
    echo(f"demo logins: {len(made)} accounts (password {DEMO_PASSWORD}), resident phone {RESIDENT_PHONE}")
    return made


def logins_text(gateway_url: str) -> list[str]:
    """How each role logs in, for `make run`'s greeting."""
    rows = [
        ("admin", "admin", "county-wide administrator"),
        ("county.dispatch", "dispatcher", "county dispatcher"),
        ("pinghu.dispatch", "dispatcher", "平湖镇 dispatcher"),
        ("pinghu.steward", "steward", "平湖镇 alley steward"),
        ("pinghu.volunteer", "volunteer", "a 平湖镇 elder-care volunteer"),
        ("pinghu.leader", "volunteer", "a 平湖镇 team leader"),
    ]
    lines = [f"  {role:<10} {username:<17} {DEMO_PASSWORD}   ({what})" for username, role, what in rows]
    return [
        "Demo logins (the console's login page, right side: user name and password):",
        *lines,
        f"  resident   phone {RESIDENT_PHONE} (login page, left side): 获取验证码, then read the code in",
        f"             the development inbox {gateway_url}/#/dev-inbox?to={RESIDENT_PHONE} (linked there)",
        "  The same through the API: POST /api/v1/auth/login {username, password};",
        "  POST /api/v1/auth/code {phone}, then POST /api/v1/auth/code/verify {phone, code}",
    ]
