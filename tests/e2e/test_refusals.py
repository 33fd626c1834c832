"""The gateway's own refusals: limits per address and per token, sizes, and headers on every answer.

A second gateway is rendered from the same template with tiny rate limits and put in front of the
e2e stack's services, so the limits can be met without slowing the other tests.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from services import SERVICES
from tests.e2e.conftest import ROOT, Gateway
from tests.support import PROFILE, bearer

pytestmark = pytest.mark.e2e
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def strict_gateway(gateway: Gateway) -> Iterator[str]:
    """A gateway allowing 2 requests/s (burst 3) per address and 1/s (burst 2) per token."""
    # nginx's workers run as nobody: pytest's own temporary tree (0700, root's) is closed to them, and
    # the session cache in front of the accounts service would fail every token's check with a 503.
    run_dir = Path(tempfile.mkdtemp(prefix="civicloop-strict-gateway-"))
    run_dir.chmod(0o755)
    (run_dir / "logs").mkdir()
    for directory in ("tmp", "cache"):
        (run_dir / "nginx" / directory).mkdir(parents=True)
        (run_dir / "nginx" / directory).chmod(0o777)
    port = _free_port()
    env = {
        **os.environ,
        "RUN_DIR": str(run_dir),
        "LISTEN": f"127.0.0.1:{port}",
        **{
            f"{service}_UPSTREAM": f"127.0.0.1:{PROFILE[f'{service}_WEB_PORT']}"
            for service in (name.upper() for name in SERVICES)
        },
        "RATE_PER_SECOND": "2",
        "RATE_BURST": "3",
        "TOKEN_RATE_PER_SECOND": "1",
        "TOKEN_RATE_BURST": "2",
    }
    config = run_dir / "nginx" / "nginx.conf"
    subprocess.run([str(ROOT / "deploy" / "gateway" / "render.sh"), str(config)], env=env, check=True)
    nginx = ["/usr/sbin/nginx", "-c", str(config), "-p", str(run_dir / "nginx")]
    subprocess.run(nginx, check=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                requests.get(base + "/healthz", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield base
    finally:
        subprocess.run([*nginx, "-s", "quit"], check=False)
        shutil.rmtree(run_dir, ignore_errors=True)


def _assert_problem(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, response.text[:300]
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["detail"]
    return body


def test_answers_carry_security_headers_and_a_request_id(gateway: Gateway):
    """Proxied answers, the gateway's own and its refusals all carry the same headers."""
    answers = [
        gateway.get("/api/v1/catalog"),
        gateway.get("/api/v1/requests", bearer("resident", "resident-headers")),
        gateway.get("/api/v1/nowhere"),
        gateway.post("/api/v1/requests", data=b"x" * (2 * 1024 * 1024)),
    ]
    for answer in answers:
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers.get(name) == value, (answer.url, answer.status_code, name)
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["X-Request-ID"]
        assert "nginx/" not in answer.headers.get("Server", "")


def test_refusals_of_size_are_problem_json(gateway: Gateway):
    """A 5 MB body, a 9,000-character path and a 10 KB header are refused as problem+json."""
    _assert_problem(gateway.post("/api/v1/requests", data=b"[" * (5 * 1024 * 1024)), 413)
    _assert_problem(gateway.get("/api/v1/requests/" + "a" * 9000), 414)
    _assert_problem(gateway.get("/api/v1/catalog", {"X-Forwarded-Note": "n" * 10_000}), 400)


def test_a_request_id_is_kept_only_when_it_is_sane(gateway: Gateway):
    """A short id travels through; a 200-character or odd one is replaced by the gateway's own."""
    kept = gateway.get("/api/v1/catalog", {"X-Request-ID": "trace-42.a:b"})
    assert kept.headers["X-Request-ID"] == "trace-42.a:b"
    replaced = gateway.get("/api/v1/catalog", {"X-Request-ID": "x" * 200})
    assert replaced.status_code == 200
    assert replaced.headers["X-Request-ID"] != "x" * 200
    assert 16 <= len(replaced.headers["X-Request-ID"]) <= 64
    odd = gateway.get("/api/v1/catalog", {"X-Request-ID": "a b<script>"})
    assert odd.headers["X-Request-ID"] != "a b<script>"


def test_a_client_over_its_limit_gets_429_with_retry_after(strict_gateway: str):
    """Past the per-address burst, answers are 429 problem+json with Retry-After; they pass again later."""
    statuses = [requests.get(strict_gateway + "/api/v1/catalog", timeout=5) for _ in range(8)]
    assert [answer.status_code for answer in statuses[:4]] == [200, 200, 200, 200]
    limited = [answer for answer in statuses if answer.status_code == 429]
    assert len(limited) >= 4
    _assert_problem(limited[0], 429)
    assert int(limited[0].headers["Retry-After"]) >= 1
    assert limited[0].headers["X-Frame-Options"] == "DENY"
    time.sleep(2.5)
    assert requests.get(strict_gateway + "/api/v1/catalog", timeout=5).status_code == 200


def test_one_token_is_limited_even_when_the_address_is_not(strict_gateway: str):
    """One token may send 1 + burst 2 at once; the address (1 + burst 3) would still let a 4th pass."""
    time.sleep(2.5)
    headers = bearer("resident", "resident-busy")
    statuses = [
        requests.get(strict_gateway + "/api/v1/requests", headers=headers, timeout=5).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]


ORDER = {
    "category": "elder_care",
    "title": "帮忙买菜",
    "description": "腿脚不便",
    "township": "平湖镇",
    "village": "平湖村",
}


def test_a_thousand_nested_brackets_are_a_400(gateway: Gateway):
    """Issue 15 #3: `[`×1000 + `]`×1000 used to be a RecursionError and a 500."""
    who = {**bearer("resident", "resident-nested"), "Content-Type": "application/json"}
    answer = gateway.post("/api/v1/requests", who, data="[" * 1000 + "]" * 1000)
    body = _assert_problem(answer, 400)
    assert body["errors"][0]["field"] == "body"


def test_a_nul_character_is_a_422_naming_the_field(gateway: Gateway):
    """Issue 15 #4: the database refuses NUL; the API refuses it first, naming the field."""
    answer = gateway.post(
        "/api/v1/requests", bearer("resident", "resident-nul"), json={**ORDER, "title": "a\u0000b"}
    )
    body = _assert_problem(answer, 422)
    assert body["errors"][0]["field"] == "title"


@pytest.mark.parametrize(
    ("path", "who", "field"),
    [
        # Found by `make fuzz` (10,000 cases): PostgreSQL behind the wire server refused the query, a 500.
        (
            "/api/v1/tasks?volunteer_id=%00%F0%95%8B%B0&status=offered",
            ("dispatcher", "d-nul"),
            "volunteer_id",
        ),
        ("/api/v1/audit?subject_id=a%00b", ("admin", "admin-nul"), "subject_id"),
        ("/api/v1/followups?township=%00", ("dispatcher", "d-nul"), "township"),
    ],
)
def test_a_nul_character_in_a_query_parameter_is_a_422_naming_it(
    gateway: Gateway, path: str, who: tuple[str, str], field: str
):
    """(The gateway refuses a NUL in the path itself: 400 problem+json.)"""
    answer = gateway.get(path, bearer(*who))
    assert _assert_problem(answer, 422)["errors"][0]["field"] == field


@pytest.mark.parametrize("urgency", [True, 1, ["normal"]])
def test_wrong_json_types_are_refused(gateway: Gateway, urgency: object):
    """Issue 15 #5: strict types on every body (no `true` as 1, no `"5"` as 5)."""
    answer = gateway.post(
        "/api/v1/requests", bearer("resident", "resident-types"), json={**ORDER, "urgency": urgency}
    )
    assert _assert_problem(answer, 422)["errors"][0]["field"] == "urgency"
