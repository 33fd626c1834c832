"""Property-based fuzzing of every service's OpenAPI document through the gateway, with schemathesis.

Each operation of each document gets generated cases, valid ones and invalid ones (schemathesis'
positive and negative modes), sent through the gateway with the token of a role drawn per case
(anonymous, resident, volunteer, steward, dispatcher of a township, of another one, of the county,
admin). Path parameters are drawn from real ids about half the time, so the cases reach past the
404 into ownership and state. Every answer is checked: never a server error (a 5xx; the stack's
database is up, so a 503 counts too), and its status, media type and body as the document declares
(schemathesis' own conformance checks; the services also check every answer themselves in the
test profiles and would turn a mismatch into a 500). Counts are printed at the end.

`python -m tests.fuzz --cases 10000` (what `make fuzz` runs) against a stack that is up;
tests/e2e/test_fuzz.py runs a small budget in `make test`.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisDeprecationWarning, Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from services import SERVICES
from services.common.auth import issue_token
from services.common.ids import new_id

CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]
# Paths only the services themselves serve (the gateway routes none of them; /internal/ is the
# accounts service's answer to the gateway's own auth_request).
OPERATIONAL = ("/healthz", "/readyz", "/metrics", "/openapi.json", "/internal/")
TOWNSHIP, OTHER_TOWNSHIP = "平湖镇", "大桥镇"
PASSWORD = "模糊-登录-2026"
# Operations that end or lock the caller's login: each process sends them after all the others.
SESSION_ENDING = ("/api/v1/auth/logout", "/api/v1/auth/password")


@dataclass(frozen=True)
class Principal:
    """Who a case is sent as: a role, a subject and a township (None: county-wide or none)."""

    name: str
    role: str | None
    sub: str = ""
    township: str | None = None
    # A login of the accounts service: the token comes from logging in (RS256, with a session).
    username: str = ""

    def headers(self, secret: str, gateway: str = "") -> dict[str, str]:
        """The Authorization header of this principal (none for the anonymous caller)."""
        if self.role is None:
            return {}
        if self.username:
            answer = requests.post(
                f"{gateway}/api/v1/auth/login",
                json={"username": self.username, "password": PASSWORD},
                timeout=15,
            )
            if answer.status_code != 200:
                raise RuntimeError(f"logging in {self.username}: {answer.status_code} {answer.text[:300]}")
            return {"Authorization": f"Bearer {answer.json()['access_token']}"}
        token = issue_token(secret, sub=self.sub, role=self.role, township=self.township)
        return {"Authorization": f"Bearer {token}"}


@dataclass
class Finding:
    """One case that broke a rule, as a curl command to repeat it."""

    kind: str
    operation: str
    status: int
    principal: str
    detail: str
    curl: str


@dataclass
class Tally:
    """What a run did: cases sent, answers by status, and the cases that broke a rule."""

    cases: int = 0
    statuses: Counter = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, status: int, finding: Finding | None) -> None:
        """Count one case (and what it broke, if anything)."""
        with self.lock:
            self.cases += 1
            self.statuses[status] += 1
            if finding is not None:
                self.findings.append(finding)

    @property
    def server_errors(self) -> list[Finding]:
        """Answers of 500 and above."""
        return [f for f in self.findings if f.kind == "server error"]

    @property
    def schema_violations(self) -> list[Finding]:
        """Answers whose status, media type or body the document does not declare."""
        return [f for f in self.findings if f.kind == "schema violation"]

    def summary(self) -> str:
        """The closing lines: the counts the issue asks for."""
        by_status = ", ".join(f"{status}: {count}" for status, count in sorted(self.statuses.items()))
        return (
            f"fuzz: {self.cases} cases, {len(self.server_errors)} server errors, "
            f"{len(self.schema_violations)} schema violations\n"
            f"fuzz: answers by status: {by_status}"
        )


@dataclass
class Target:
    """The stack under test: the gateway, each service's web port (for its document), the secret."""

    gateway: str
    web_ports: dict[str, int]
    secret: str


def principals(ids: dict[str, list[str]]) -> list[Principal]:
    """The roles of the matrix, their subjects the seeded people so ownership paths are reached."""
    return [
        Principal("anonymous", None),
        Principal("resident", "resident", ids["resident"][0]),
        Principal("volunteer", "volunteer", ids["volunteer_id"][0]),
        Principal("steward", "steward", ids["steward"][0], TOWNSHIP),
        Principal("dispatcher", "dispatcher", f"fuzz-dispatcher-{new_id()}", TOWNSHIP),
        Principal("dispatcher elsewhere", "dispatcher", f"fuzz-dispatcher-{new_id()}", OTHER_TOWNSHIP),
        Principal("county dispatcher", "dispatcher", f"fuzz-county-{new_id()}"),
        Principal("admin", "admin", f"fuzz-admin-{new_id()}"),
        Principal("admin (login)", "admin", username=ids["admin_login"][0]),
        Principal("volunteer (login)", "volunteer", username=ids["volunteer_login"][0]),
    ]


def seed(target: Target) -> dict[str, list[str]]:
    """A few real records to aim path parameters at: a station, volunteers, a team, orders, a report."""
    admin = Principal("admin", "admin", "fuzz-seed-admin").headers(target.secret)
    resident_id, steward_id = f"fuzz-resident-{new_id()}", f"fuzz-steward-{new_id()}"
    resident = Principal("resident", "resident", resident_id).headers(target.secret)
    steward = Principal("steward", "steward", steward_id, TOWNSHIP).headers(target.secret)

    def post(path: str, who: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        response = requests.post(target.gateway + path, json=body, headers=who, timeout=15)
        if response.status_code not in (200, 201):
            raise RuntimeError(f"seeding {path}: {response.status_code} {response.text[:300]}")
        return response.json()

    station = post(
        "/api/v1/stations",
        admin,
        {
            "code": f"FUZZ-{new_id()}",
            "name": f"{TOWNSHIP}模糊村新时代文明实践站",
            "township": TOWNSHIP,
            "kind": "village",
        },
    )
    volunteer = {
        "name": "模糊测试",
        "township": TOWNSHIP,
        "skills": ["elder_care"],
        "station_id": station["id"],
    }
    volunteers = [post("/api/v1/volunteers", admin, volunteer)["id"] for _ in range(2)]
    team = post(
        "/api/v1/teams",
        admin,
        {"name": "模糊测试队", "kind": "county_corps", "townships": [TOWNSHIP], "leader_id": volunteers[0]},
    )
    order = {
        "category": "repairs",
        "title": "修门",
        "description": "门坏了",
        "township": TOWNSHIP,
        "village": "模糊村",
        "contact_phone": "13800001111",
    }
    request_id = post("/api/v1/requests", resident, order)["id"]
    report = post(
        "/api/v1/patrols",
        steward,
        {
            "location": {"township": TOWNSHIP, "village": "模糊村"},
            "description": "路灯不亮",
            "tier": "reported_to_community",
            "category": "repairs",
        },
    )
    logins = {
        "admin_login": {"role": "admin", "display_name": "模糊管理员"},
        "volunteer_login": {"role": "volunteer", "display_name": "模糊志愿者", "volunteer_id": volunteers[0]},
    }
    for key, body in logins.items():
        username = f"fuzz.{key.split('_')[0]}.{new_id()[-10:].lower()}"
        account = {"username": username, "password": PASSWORD, **body}
        deadline = time.monotonic() + 30
        # The accounts service learns of the new volunteer from its event: 422 on volunteer_id until then.
        while (
            made := requests.post(
                target.gateway + "/api/v1/accounts", json=account, headers=admin, timeout=15
            )
        ).status_code == 422 and time.monotonic() < deadline:
            time.sleep(0.2)
        if made.status_code != 201:
            raise RuntimeError(f"seeding an account: {made.status_code} {made.text[:300]}")
        logins[key] = username  # type: ignore[assignment]
    return {
        "admin_login": [logins["admin_login"]],
        "volunteer_login": [logins["volunteer_login"]],
        "resident": [resident_id],
        "steward": [steward_id],
        "station_id": [station["id"]],
        "volunteer_id": volunteers,
        "leader_id": volunteers[:1],
        "team_id": [team["id"]],
        "request_id": [request_id, report["request_id"]],
        "report_id": [report["id"]],
        "wish_id": [request_id],
        "township": [TOWNSHIP, OTHER_TOWNSHIP],
    }


def load_operations(target: Target) -> list[tuple[str, Any]]:
    """(service, operation) for every operation the gateway serves, from each service's document."""
    found = []
    for service in SERVICES:
        port = target.web_ports.get(service)
        if port is None:
            continue
        document = requests.get(f"http://127.0.0.1:{port}/openapi.json", timeout=10).json()
        schema = schemathesis.openapi.from_dict(document)
        for result in schema.get_all_operations():
            operation = result.ok()
            if not operation.path.startswith(OPERATIONAL):
                found.append((service, operation))
    return found


def _describe(failure: BaseException) -> str:
    causes = getattr(failure, "exceptions", None) or [failure]
    return " | ".join(f"{type(cause).__name__}: {cause}" for cause in causes)[:800]


def _strategy(operation: Any, mode: GenerationMode, ids: dict[str, list[str]]) -> st.SearchStrategy:
    generated = operation.as_strategy(generation_mode=mode)
    names = [p.name for p in operation.path_parameters]
    if not names or not all(name in ids for name in names):
        return generated
    # About half the cases aim at records that exist, where ownership and state decide the answer.
    return st.one_of(
        generated,
        st.fixed_dictionaries({name: st.sampled_from(ids[name]) for name in names}).flatmap(
            lambda real: operation.as_strategy(generation_mode=mode, path_parameters=real)
        ),
    )


def fuzz_operation(
    service: str,
    operation: Any,
    cases: int,
    target: Target,
    people: list[Principal],
    ids: dict[str, list[str]],
    tally: Tally,
    offset: int,
    headers: dict[str, dict[str, str]],
) -> None:
    """Send `cases` generated cases of one operation, half valid and half not, and check each answer."""
    session = requests.Session()
    # Every role in turn, from a different one per operation: hypothesis would favour the first.
    rotation = itertools.islice(itertools.cycle(people), offset % len(people), None)
    label = f"{operation.method.upper()} {operation.path}"

    def send(case: Any, person: Principal) -> None:
        try:
            response = case.call(
                base_url=target.gateway, session=session, headers=headers[person.name], timeout=20
            )
        except requests.RequestException as error:
            tally.record(
                0, Finding("transport error", label, 0, person.name, str(error)[:300], case.as_curl_command())
            )
            return
        finding = None
        if response.status_code >= 500:
            finding = Finding(
                "server error", label, response.status_code, person.name, response.text[:300], ""
            )
        else:
            try:
                case.validate_response(response, checks=CHECKS)
            except (Exception, BaseExceptionGroup) as failure:  # schemathesis raises a group of failed checks
                finding = Finding(
                    "schema violation", label, response.status_code, person.name, str(failure)[:600], ""
                )
        if finding is not None:
            finding.curl = case.as_curl_command(headers=headers[person.name])
        tally.record(response.status_code, finding)

    for mode, share in ((GenerationMode.POSITIVE, (cases + 1) // 2), (GenerationMode.NEGATIVE, cases // 2)):
        if share == 0:
            continue

        @settings(
            max_examples=share,
            database=None,
            deadline=None,
            derandomize=False,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=_strategy(operation, mode, ids))
        def run(case: Any) -> None:
            send(case, next(rotation))

        try:
            run()
        except Unsatisfiable:
            pass  # nothing to make invalid (an operation without parameters or body): no negative cases
        except (Exception, BaseExceptionGroup) as error:  # a strategy that cannot be built: a finding
            tally.record(0, Finding("generation error", label, 0, "-", _describe(error), ""))


def _fuzz_share(
    target: Target, ids: dict[str, list[str]], people: list[Principal], share: list[int], per_operation: int
) -> Tally:
    """One process's share of the operations (by position), one after the other."""
    warnings.filterwarnings("ignore", category=HypothesisDeprecationWarning)
    operations = load_operations(target)
    tally = Tally()
    # One login per process (a login per operation would soon meet the lockout of wrong passwords).
    headers = {person.name: person.headers(target.secret, target.gateway) for person in people}
    share = sorted(share, key=lambda position: operations[position][1].path in SESSION_ENDING)
    for position in share:
        service, operation = operations[position]
        fuzz_operation(service, operation, per_operation, target, people, ids, tally, position, headers)
    tally.lock = None  # type: ignore[assignment]  # a lock does not travel back from the process
    return tally


def fuzz(
    target: Target, total_cases: int, *, processes: int = 2, echo: Callable[[str], None] = print
) -> Tally:
    """Fuzz every operation with about `total_cases` cases in all; return the tally.

    Processes, not threads: generating cases is CPU work, and CPython 3.11's AST constructor (which
    hypothesis uses to describe strategies) is not safe across threads.
    """
    started = time.monotonic()
    warnings.filterwarnings("ignore", category=HypothesisDeprecationWarning)
    ids = seed(target)
    operations = load_operations(target)
    people = principals(ids)
    per_operation = max(2, -(-total_cases // max(1, len(operations))))
    echo(f"fuzz: {len(operations)} operations, {per_operation} cases each, {len(people)} principals")
    shares = [list(range(n, len(operations), processes)) for n in range(processes)]
    tally = Tally()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        futures = [pool.submit(_fuzz_share, target, ids, people, share, per_operation) for share in shares]
        for future in futures:
            part = future.result()
            tally.cases += part.cases
            tally.statuses.update(part.statuses)
            tally.findings.extend(part.findings)
    echo(f"fuzz: finished in {time.monotonic() - started:.0f} s")
    return tally


def report(tally: Tally, echo: Callable[[str], None] = print, limit: int = 20) -> None:
    """Print each kind of finding once per operation and status, then the counts."""
    seen: set[tuple[str, str, int]] = set()
    for finding in tally.findings:
        key = (finding.kind, finding.operation, finding.status)
        if key in seen or len(seen) >= limit:
            continue
        seen.add(key)
        echo(f"fuzz: {finding.kind}: {finding.operation} → {finding.status} as {finding.principal}")
        echo(f"      {finding.detail}")
        if finding.curl:
            echo(f"      {finding.curl}")
    echo(tally.summary())


def as_json(tally: Tally) -> str:
    """The counts and findings, for bench-results/."""
    return json.dumps(
        {
            "cases": tally.cases,
            "server_errors": len(tally.server_errors),
            "schema_violations": len(tally.schema_violations),
            "statuses": dict(tally.statuses),
            "findings": [finding.__dict__ for finding in tally.findings[:200]],
        },
        ensure_ascii=False,
        indent=1,
    )


def web_ports(profile: dict[str, str], services: Iterable[str] = SERVICES) -> dict[str, int]:
    """Each service's web port in a profile."""
    return {s: int(profile[f"{s.upper()}_WEB_PORT"]) for s in services if f"{s.upper()}_WEB_PORT" in profile}
