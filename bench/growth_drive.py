"""Driving a local stack through its gateway as the county's people do, with the time of every step.

Shared by `make bench-growth` (bench/growth_bench.py) and the statement audit
(tests/e2e/test_statements.py): a profile's settings, the stack script, fresh databases, tokens,
and one full loop — order → offer → accept → check-in → check-out → rating → closed.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import amqp
import requests
from pymongo import MongoClient

from services.common.auth import issue_token
from services.common.publisher import amqp_params
from services.common.topology import dead_queue_name, main_queue_name, retry_queue_name

ROOT = Path(__file__).resolve().parents[1]
STACK = ROOT / "deploy" / "local" / "stack.sh"
SERVICES = ("requests", "dispatch", "volunteers", "ratings")
TOWNSHIP = "城西街道"
T = TypeVar("T")


class Slow(Exception):
    """A step did not happen within its patience."""


def profile(name: str) -> dict[str, str]:
    """KEY=VALUE pairs of deploy/local/profiles/<name>.env."""
    values = {}
    for line in (ROOT / "deploy" / "local" / "profiles" / f"{name}.env").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip('"')
    return values


def stack(command: str, profile_name: str, *arguments: str, check: bool = True) -> None:
    """Run deploy/local/stack.sh COMMAND PROFILE ARGS."""
    subprocess.run(
        [str(STACK), command, profile_name, *arguments], check=check, cwd=ROOT, capture_output=True
    )


def db_ports(settings: dict[str, str]) -> dict[str, str]:
    """Service → its wire server's port."""
    return {service: settings[f"{service.upper()}_DB_PORT"] for service in SERVICES}


def database_name(settings: dict[str, str], service: str) -> str:
    """The service's database in the stack (`<prefix>_<service>`)."""
    return f"{settings['CIVICLOOP_DB_PREFIX']}_{service}"


def fresh_stack(profile_name: str) -> dict[str, str]:
    """The profile's stack started on empty databases and queues (as the e2e tests start it)."""
    settings = profile(profile_name)
    stack("infra", profile_name)
    stack("ctl", profile_name, "stop", "services:*", "gateway", check=False)
    for service, port in db_ports(settings).items():
        with MongoClient(f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=5000) as client:
            client.drop_database(database_name(settings, service))
        connection = amqp.Connection(**amqp_params(settings["CIVICLOOP_AMQP_URL"]))
        connection.connect()
        try:
            channel = connection.channel()
            names = [main_queue_name(service), dead_queue_name(service)]
            for name in [*names, *(retry_queue_name(service, level) for level in (1, 2, 3))]:
                channel.queue_delete(name)
        finally:
            connection.close()
    stack("up", profile_name)
    return settings


def wait_until(check: Callable[[], T], timeout: float, what: str, interval: float = 0.05) -> T:
    """Poll `check` until it returns something truthy; `Slow` naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise Slow(f"{what}: nothing after {timeout}s")
        time.sleep(interval)


@dataclass
class Gateway:
    """Calls through the gateway as someone (an Authorization header made from the profile's secret)."""

    base_url: str
    secret: str
    timeout: float = 60.0
    session: requests.Session = field(default_factory=requests.Session)

    def who(self, role: str, sub: str) -> dict[str, str]:
        """An Authorization header."""
        return {"Authorization": f"Bearer {issue_token(self.secret, sub=sub, role=role)}"}

    def call(self, method: str, path: str, who: dict[str, str], **kwargs: Any) -> requests.Response:
        """One HTTP call."""
        return self.session.request(method, self.base_url + path, headers=who, timeout=self.timeout, **kwargs)


def gateway_of(settings: dict[str, str], timeout: float = 60.0) -> Gateway:
    """The stack's gateway."""
    return Gateway(f"http://127.0.0.1:{settings['GATEWAY_PORT']}", settings["CIVICLOOP_JWT_SECRET"], timeout)


def register_volunteers(gw: Gateway, count: int, township: str = TOWNSHIP, patience: float = 60) -> list[str]:
    """Volunteers registered through the API, once dispatch knows them."""
    admin = gw.who("admin", "bench-admin")
    ids = []
    for number in range(count):
        body = {
            "name": f"志愿者{number}",
            "phone": f"1390000{number:04d}",
            "township": township,
            "skills": ["elder_care"],
            "capacity": 3,
        }
        response = gw.call("POST", "/api/v1/volunteers", admin, json=body)
        response.raise_for_status()
        ids.append(response.json()["id"])
    for volunteer_id in ids:
        wait_until(
            lambda v=volunteer_id: gw.call("GET", f"/api/v1/dispatch/volunteers/{v}", admin).ok,
            patience,
            f"dispatch to know volunteer {volunteer_id}",
        )
    return ids


def run_loop(
    gw: Gateway,
    resident_id: str,
    *,
    township: str = TOWNSHIP,
    decline_first: bool = False,
    patience: float = 60,
    poll: float = 0.05,
) -> dict[str, Any]:
    """One full loop; returns the request id and the seconds each step took (and in total)."""
    admin = gw.who("admin", "bench-admin")
    resident = gw.who("resident", resident_id)
    steps: dict[str, float] = {}
    started = time.monotonic()

    def timed(name: str, action: Callable[[], T]) -> T:
        begun = time.monotonic()
        result = action()
        steps[name] = steps.get(name, 0.0) + time.monotonic() - begun
        return result

    body = {
        "category": "elder_care",
        "title": "陪老人看病",
        "description": "周三上午陪同去县医院复查",
        "township": township,
        "village": "西门社区",
        "contact_phone": "13712345678",
    }
    created = timed("order", lambda: gw.call("POST", "/api/v1/requests", resident, json=body))
    if created.status_code != 201:
        raise Slow(f"order: {created.status_code} {created.text[:200]}")
    request_id = created.json()["id"]

    def offer(attempt: int) -> dict[str, Any]:
        def check() -> Any:
            response = gw.call("GET", f"/api/v1/dispatch/{request_id}", admin)
            attempts = response.json().get("attempts", []) if response.ok else []
            return (
                len(attempts) >= attempt
                and attempts[attempt - 1]["status"] == "offered"
                and attempts[attempt - 1]
            )

        made = wait_until(check, patience, f"offer {attempt} of {request_id}", poll)
        volunteer = gw.who("volunteer", made["volunteer_id"])
        path = f"/api/v1/tasks/{made['task_id']}"
        wait_until(
            lambda: gw.call("GET", path, volunteer).ok, patience, f"task {made['task_id']} in the inbox", poll
        )
        return made

    found = timed("offer", lambda: offer(1))
    volunteer = gw.who("volunteer", found["volunteer_id"])
    declined_by = None
    if decline_first:
        answer = gw.call(
            "POST", f"/api/v1/tasks/{found['task_id']}/decline", volunteer, json={"reason": "今天在外地"}
        )
        if not answer.ok:
            raise Slow(f"decline: {answer.status_code} {answer.text[:200]}")
        declined_by = found["volunteer_id"]
        found = timed("offer", lambda: offer(2))
        volunteer = gw.who("volunteer", found["volunteer_id"])
    task_id = found["task_id"]
    accepted = timed("accept", lambda: gw.call("POST", f"/api/v1/tasks/{task_id}/accept", volunteer))
    if accepted.status_code != 200:
        raise Slow(f"accept: {accepted.status_code} {accepted.text[:200]}")
    code = timed(
        "accept",
        lambda: wait_until(
            lambda: gw.call("GET", f"/api/v1/requests/{request_id}", resident).json().get("service_code"),
            patience,
            "the service code",
            poll,
        ),
    )
    for step, path in (("check_in", "check-in"), ("check_out", "complete")):
        response = timed(
            step,
            lambda p=path: gw.call("POST", f"/api/v1/tasks/{task_id}/{p}", volunteer, json={"code": code}),
        )
        if response.status_code != 200:
            raise Slow(f"{step}: {response.status_code} {response.text[:200]}")

    def status() -> str:
        return gw.call("GET", f"/api/v1/requests/{request_id}", resident).json().get("status", "")

    def rate() -> Any:
        response = gw.call("POST", "/api/v1/ratings", resident, json={"request_id": request_id, "score": 5})
        return response.status_code == 201 and response

    timed("rating", lambda: wait_until(rate, patience, "the rating to be accepted", interval=max(0.1, poll)))
    timed("closed", lambda: wait_until(lambda: status() == "closed", patience, "closed", poll))
    steps["loop"] = time.monotonic() - started
    return {
        "request_id": request_id,
        "volunteer_id": found["volunteer_id"],
        "task_id": task_id,
        "declined_by": declined_by,
        "seconds": steps,
    }
