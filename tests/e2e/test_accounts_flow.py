"""Logging in, live changes, notices, logout and keys — through the gateway of a whole stack."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from datetime import timedelta

import pytest
import requests

from civicloop.profiles import ROOT
from services.common import keyring
from services.common.ids import utcnow
from tests.e2e.test_loop import current_offer, register_volunteers, wait_in_inbox
from tests.support import PROFILE, TEST_PROFILE, wait_until

pytestmark = pytest.mark.e2e
# Its own township: test_monitoring counts every order of 鹤塘镇 exactly.
TOWNSHIP = "杉洋镇"
PASSWORD = "鹤塘-志愿-2026"
KEYRING = ROOT / ".run" / TEST_PROFILE / "keys" / "jwt-keys.json"


class Browser:
    """A person's browser: one cookie jar, the access token from the last login or refresh."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.token: str | None = None

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return self.session.request(method, self.base_url + path, headers=headers, timeout=15, **kwargs)

    def logged_in(self, response: requests.Response) -> dict:
        assert response.status_code == 200, response.text
        self.token = response.json()["access_token"]
        return response.json()


class LiveStream:
    """An EventSource, as the console opens one: the session's cookies, no header."""

    def __init__(self, browser: Browser) -> None:
        self.events: list[tuple[str, dict]] = []
        self.response = browser.session.get(
            browser.base_url + "/api/v1/live/stream", stream=True, timeout=(5, 120)
        )
        assert self.response.status_code == 200, self.response.text
        assert self.response.headers["Content-Type"].startswith("text/event-stream")
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        kind = None
        try:
            for line in self.response.iter_lines(decode_unicode=True):
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind:
                    self.events.append((kind, json.loads(line[6:])))
        except (requests.RequestException, AttributeError, ValueError):
            return

    def wait_for(self, kind: str, **data) -> dict:
        def seen():
            return next(
                (d for k, d in self.events if k == kind and all(d.get(f) == v for f, v in data.items())),
                None,
            )

        return wait_until(seen, timeout=30, what=f"live {kind} {data}")

    def close(self) -> None:
        self.response.close()


def base_url() -> str:
    return f"http://127.0.0.1:{PROFILE['GATEWAY_PORT']}"


def create_account(gateway, admin, body: dict) -> dict:
    def attempt():
        response = gateway.post("/api/v1/accounts", admin, json={"password": PASSWORD, **body})
        # The accounts service learns of a new volunteer from its event: 422 on volunteer_id until then.
        return response if response.status_code == 201 else None

    # A bound, not a target: the accounts worker may still be connecting when the suite starts.
    return wait_until(attempt, timeout=90, what=f"the account {body['username']}").json()


def resident_login(phone: str) -> Browser:
    browser = Browser(base_url())
    assert browser.call("POST", "/api/v1/auth/code", json={"phone": phone}).status_code == 202
    inbox = wait_until(
        lambda: browser.call("GET", f"/api/v1/dev/inbox?to={phone}").json()["items"],
        what="the code in the development inbox",
    )
    code = json.loads(inbox[0]["request"]["form"]["TemplateParam"])["code"]
    body = browser.logged_in(
        browser.call("POST", "/api/v1/auth/code/verify", json={"phone": phone, "code": code})
    )
    assert body["account"]["role"] == "resident"
    return browser


def test_a_resident_orders_and_hears_of_the_offer_live_and_the_volunteer_sees_the_notice(gateway, admin):
    (volunteer_id,) = register_volunteers(gateway, admin, 1, township=TOWNSHIP)
    create_account(
        gateway,
        admin,
        {"username": "e2e.heta", "role": "volunteer", "display_name": "林志明", "volunteer_id": volunteer_id},
    )
    resident = resident_login("13800009901")
    stream = LiveStream(resident)
    try:
        stream.wait_for("ready")
        ordered = resident.call(
            "POST",
            "/api/v1/requests",
            json={
                "category": "elder_care",
                "title": "帮忙买菜",
                "description": "腿脚不便，想请人帮忙买一周的菜",
                "township": TOWNSHIP,
                "village": "溪坪村",
            },
        )
        assert ordered.status_code == 201, ordered.text
        request_id = ordered.json()["id"]
        notice = stream.wait_for("change", type="task.offered", request_id=request_id)
        assert set(notice) == {"id", "type", "request_id", "task_id", "township", "at"}
    finally:
        stream.close()
    offered_to, task_id = current_offer(gateway, admin, request_id, 1)
    assert offered_to == volunteer_id

    volunteer = Browser(base_url())
    volunteer.logged_in(
        volunteer.call("POST", "/api/v1/auth/login", json={"username": "e2e.heta", "password": PASSWORD})
    )
    notices = wait_until(
        lambda: volunteer.call("GET", "/api/v1/notifications").json()["items"], what="the offer notice"
    )
    assert notices[0]["topic"] == "offer" and notices[0]["task_id"] == task_id
    wait_in_inbox(gateway, {"Authorization": f"Bearer {volunteer.token}"}, task_id)
    # Another resident's stream never hears of it (their own request only).
    assert resident.call("GET", f"/api/v1/requests/{request_id}").json()["status"] in (
        "dispatched",
        "submitted",
    )


def test_after_logout_the_same_access_token_is_refused_at_the_gateway_within_seconds(gateway, admin):
    create_account(gateway, admin, {"username": "e2e.leaving", "role": "dispatcher", "display_name": "调度"})
    browser = Browser(base_url())
    browser.logged_in(
        browser.call("POST", "/api/v1/auth/login", json={"username": "e2e.leaving", "password": PASSWORD})
    )
    assert browser.call("GET", "/api/v1/dispatch/queue").status_code == 200
    assert browser.call("POST", "/api/v1/auth/logout").status_code == 204
    logged_out = time.monotonic()
    # A tuple, since a 401 response is falsy.
    (refused,) = wait_until(
        lambda: (r := browser.call("GET", "/api/v1/dispatch/queue")).status_code == 401 and (r,),
        timeout=10,
        interval=0.2,
        what="the revoked token refused",
    )
    took = time.monotonic() - logged_out
    assert took < 5, f"refused only after {took:.1f}s"
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    # And the refresh cookie is gone with the session.
    assert browser.call("POST", "/api/v1/auth/refresh").status_code == 401


def test_six_wrong_passwords_lock_the_name(gateway, admin):
    create_account(
        gateway,
        admin,
        {"username": "e2e.locked", "role": "steward", "display_name": "管家", "township": TOWNSHIP},
    )
    browser = Browser(base_url())
    answers = [
        browser.call(
            "POST", "/api/v1/auth/login", json={"username": "e2e.locked", "password": f"wrong-{n}-password"}
        )
        for n in range(6)
    ]
    assert [a.status_code for a in answers] == [401] * 6
    assert answers[-1].headers.get("Retry-After") and not answers[0].headers.get("Retry-After")
    right = browser.call("POST", "/api/v1/auth/login", json={"username": "e2e.locked", "password": PASSWORD})
    assert right.status_code == 401 and int(right.headers["Retry-After"]) > 800


def _civicloop(*arguments: str) -> str:
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "civicloop"), *arguments, "--profile", TEST_PROFILE],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_token_signed_by_the_retired_key_is_refused(gateway, admin):
    create_account(gateway, admin, {"username": "e2e.keys", "role": "admin", "display_name": "密钥"})
    old = keyring.read_keyring(KEYRING).signing_key(utcnow())
    claims = {
        "sub": "e2e-forger",
        "role": "admin",
        "iss": "civicloop",
        "exp": utcnow() + timedelta(minutes=10),
    }
    forged = {"Authorization": f"Bearer {keyring.sign(old, claims)}"}
    assert gateway.get("/api/v1/dispatch/queue", forged).status_code == 200

    _civicloop("keys", "rotate", "--lead", "0")
    time.sleep(1.5)  # the accounts service re-reads its keyring file within a second
    browser = Browser(base_url())
    browser.logged_in(
        browser.call("POST", "/api/v1/auth/login", json={"username": "e2e.keys", "password": PASSWORD})
    )
    assert browser.call("GET", "/api/v1/dispatch/queue").status_code == 200  # signed by the new key
    assert gateway.get("/api/v1/dispatch/queue", forged).status_code == 200  # the old key, still published
    published = {key["kid"] for key in gateway.get("/.well-known/jwks.json").json()["keys"]}
    assert old.kid in published and len(published) == 2

    _civicloop("keys", "retire", old.kid)
    wait_until(
        lambda: gateway.get("/api/v1/dispatch/queue", forged).status_code == 401,
        timeout=10,
        interval=0.3,
        what="the retired key's token refused",
    )
    assert old.kid not in {key["kid"] for key in gateway.get("/.well-known/jwks.json").json()["keys"]}
    assert browser.call("GET", "/api/v1/dispatch/queue").status_code == 200
