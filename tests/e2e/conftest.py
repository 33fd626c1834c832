"""The whole platform, started by the project's own scripts, driven through the gateway."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from pymongo import MongoClient

from civicloop.profiles import ROOT
from services import SERVICES
from tests.support import PROFILE, TEST_PROFILE, bearer, delete_queues, wait_until

pytestmark = pytest.mark.e2e
STACK = str(ROOT / "deploy" / "local" / "stack.sh")


def stack(*arguments: str, check: bool = True) -> None:
    """Run deploy/local/stack.sh with the test profile."""
    subprocess.run(
        [STACK, arguments[0], TEST_PROFILE, *arguments[1:]], check=check, cwd=ROOT, capture_output=not check
    )


class Gateway:
    """Calls through the gateway as a given principal."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def call(
        self, method: str, path: str, who: dict[str, str] | None = None, **kwargs: Any
    ) -> requests.Response:
        """One call; `who` is an Authorization header from `tests.support.bearer`."""
        return self.session.request(method, self.base_url + path, headers=who or {}, timeout=15, **kwargs)

    def get(self, path: str, who: dict[str, str] | None = None, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, who, **kwargs)

    def post(self, path: str, who: dict[str, str] | None = None, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, who, **kwargs)


def scrape(port: str | int) -> dict[tuple[str, frozenset], float]:
    """Every sample a process exposes on /metrics, keyed by name and labels."""
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def total(samples: dict[tuple[str, frozenset], float], name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(
        value
        for (sample, sample_labels), value in samples.items()
        if sample == name and wanted <= sample_labels
    )


# These fill the stack with generated orders, volunteers and teams, which would take offers meant for
# the other tests: they run last, the fuzzing after everything else.
RUN_LAST = ("test_authorization.py", "test_fuzz.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the matrix and the fuzzing after the other end-to-end tests (and before the fault suite)."""
    here = Path(__file__).parent
    places = [n for n, item in enumerate(items) if item.path.is_relative_to(here)]
    ours = sorted(
        (items[n] for n in places),
        key=lambda item: RUN_LAST.index(item.path.name) + 1 if item.path.name in RUN_LAST else 0,
    )
    for n, item in zip(places, ours, strict=True):
        items[n] = item


@pytest.fixture(scope="package")
def gateway() -> Iterator[Gateway]:
    """A fresh test stack: empty databases and queues, every process started by stack.sh.

    Its services stop when the e2e tests are done, so the fault suite after them has the CPU.
    """
    stack("infra")
    stack("ctl", "stop", "services:*", "gateway", check=False)
    for service in SERVICES:
        port = PROFILE[f"{service.upper()}_DB_PORT"]
        with MongoClient(f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=5000) as client:
            client.drop_database(f"{PROFILE['CIVICLOOP_DB_PREFIX']}_{service}")
        delete_queues(PROFILE["CIVICLOOP_AMQP_URL"], service)
    stack("up")
    client = Gateway(f"http://127.0.0.1:{PROFILE['GATEWAY_PORT']}")
    wait_until(lambda: client.get("/healthz").ok, what="the gateway")
    yield client
    stack("ctl", "stop", "services:*", "gateway", check=False)


@pytest.fixture(scope="session")
def admin() -> dict[str, str]:
    return bearer("admin", "e2e-admin")
