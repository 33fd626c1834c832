"""The console in Debian's headless Chromium (Playwright), against the whole stack through the gateway.

Every page a test visits is photographed at phone and desktop size into artifacts/browser/ and
checked with axe-core: a serious or critical violation fails the test that showed the page.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from pymongo import MongoClient

from civicloop.profiles import ROOT
from services import SERVICES
from tests.support import PROFILE, TEST_PROFILE, bearer, delete_queues, wait_until

pytestmark = pytest.mark.browser
STACK = str(ROOT / "deploy" / "local" / "stack.sh")
SHOTS = ROOT / "artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium as root in a closed network: no sandbox, no GPU, nothing that calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}
PASSWORD = "古田-浏览器-2026"
BLOCKING = {"serious", "critical"}
NEXT_FRAME = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
AXE = Axe()


def stack(*arguments: str, check: bool = True) -> None:
    subprocess.run(
        [STACK, arguments[0], TEST_PROFILE, *arguments[1:]], check=check, cwd=ROOT, capture_output=not check
    )


class Api:
    """Setting the scene through the gateway as an admin would (the pages themselves are what is tested)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.admin = bearer("admin", "browser-admin")

    def call(
        self, method: str, path: str, who: dict[str, str] | None = None, **kwargs: Any
    ) -> requests.Response:
        return self.session.request(
            method, self.base_url + path, headers=who or self.admin, timeout=15, **kwargs
        )

    def volunteer(self, name: str, township: str, skills: list[str]) -> str:
        body = {"name": name, "township": township, "skills": skills, "capacity": 3}
        response = self.call("POST", "/api/v1/volunteers", json=body)
        assert response.status_code == 201, response.text
        volunteer_id = response.json()["id"]
        wait_until(
            lambda: self.call("GET", f"/api/v1/dispatch/volunteers/{volunteer_id}").ok,
            timeout=30,
            what=f"dispatch to know {name}",
        )
        return volunteer_id

    def account(self, username: str, role: str, display_name: str, **extra: str) -> None:
        body = {
            "username": username,
            "role": role,
            "display_name": display_name,
            "password": PASSWORD,
            **extra,
        }

        def made() -> bool:
            # The accounts service learns of a new volunteer from its event: 422 on volunteer_id until then.
            response = self.call("POST", "/api/v1/accounts", json=body)
            return response.status_code in (201, 409)

        wait_until(made, timeout=30, what=f"the account {username}")

    def station(self, township: str, village: str, code: str) -> None:
        body = {
            "code": code,
            "name": f"{township}{village}新时代文明实践站",
            "township": township,
            "kind": "village",
        }
        response = self.call("POST", "/api/v1/stations", json=body)
        assert response.status_code == 201, response.text


class Shots:
    """Screenshots of each page at both sizes, and axe-core's verdict on each."""

    def __init__(self) -> None:
        self.taken: list[str] = []
        self.checked: dict[str, list[dict[str, Any]]] = {}

    def page(self, page: Page, name: str) -> None:
        """Photograph the page as it stands (phone, then desktop) and fail on serious accessibility issues."""
        page.wait_for_load_state("networkidle")
        page.locator(".boot").wait_for(state="detached")
        expect(
            page.locator('[role="status"]:has-text("正在加载"), [role="status"]:has-text("Loading")')
        ).to_have_count(0)
        size = page.viewport_size
        for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            page.set_viewport_size(viewport)
            # The first frame drawn at the new size (the layout has answered the resize).
            page.evaluate(NEXT_FRAME)
            # The whole page as on a screen tall enough to hold it: the phone's tab bar, which sticks
            # to the bottom of the screen, is drawn at the end and not across the middle of the page.
            height = page.evaluate("() => document.documentElement.scrollHeight")
            if height > viewport["height"]:
                page.set_viewport_size({"width": viewport["width"], "height": height})
                page.evaluate(NEXT_FRAME)
            path = SHOTS / f"{name}-{label}.png"
            page.screenshot(path=str(path), full_page=True)
            self.taken.append(path.name)
        if size:
            page.set_viewport_size(size)
        results = AXE.run(page)
        blocking = [
            {
                "id": violation["id"],
                "impact": violation["impact"],
                "help": violation["help"],
                "nodes": [node["target"] for node in violation["nodes"]][:5],
            }
            for violation in results.response["violations"]
            if violation["impact"] in BLOCKING
        ]
        self.checked[name] = [
            {"id": violation["id"], "impact": violation["impact"]}
            for violation in results.response["violations"]
        ]
        found = json.dumps(blocking, ensure_ascii=False)
        assert not blocking, f"{name}: axe-core found serious or critical violations: {found}"


@pytest.fixture(scope="package")
def base_url() -> Iterator[str]:
    """A fresh stack (empty databases and queues) started as `make run` starts it."""
    stack("browser")
    stack("infra")
    stack("ctl", "stop", "services:*", "gateway", check=False)
    for service in SERVICES:
        port = PROFILE[f"{service.upper()}_DB_PORT"]
        with MongoClient(f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=5000) as client:
            client.drop_database(f"{PROFILE['CIVICLOOP_DB_PREFIX']}_{service}")
        delete_queues(PROFILE["CIVICLOOP_AMQP_URL"], service)
    stack("up")
    url = f"http://127.0.0.1:{PROFILE['GATEWAY_PORT']}"
    wait_until(lambda: requests.get(url + "/healthz", timeout=2).ok, what="the gateway")
    yield url
    stack("ctl", "stop", "services:*", "gateway", check=False)


@pytest.fixture(scope="package")
def api(base_url: str) -> Api:
    return Api(base_url)


@pytest.fixture(scope="package")
def shots() -> Iterator[Shots]:
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    found = Shots()
    yield found
    (SHOTS / "accessibility.json").write_text(
        json.dumps(found.checked, ensure_ascii=False, indent=1), encoding="utf-8"
    )


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: deploy/local/stack.sh browser installs it"
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


class Person:
    """Someone at their phone: a browser context of their own (cookies, session, live stream)."""

    def __init__(self, chromium: Browser, base_url: str, name: str) -> None:
        self.name = name
        self.base_url = base_url
        self.context: BrowserContext = chromium.new_context(
            viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai", device_scale_factor=1
        )
        self.context.set_default_timeout(20_000)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def open(self, route: str = "") -> Page:
        self.page.goto(f"{self.base_url}/#/{route}")
        return self.page

    def log_in(self, username: str, password: str = PASSWORD) -> None:
        page = self.open("login")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录", exact=True).click()
        expect(page.locator("html")).to_have_attribute("data-live", "on", timeout=20_000)

    def close(self) -> None:
        assert not self.errors, f"{self.name}'s pages threw: {self.errors}"
        self.context.close()


@pytest.fixture
def people(chromium: Browser, base_url: str) -> Iterator[Any]:
    made: list[Person] = []

    def person(name: str) -> Person:
        made.append(Person(chromium, base_url, name))
        return made[-1]

    yield person
    for someone in made:
        someone.close()


CODE = re.compile(r"\b(\d{6})\b")
