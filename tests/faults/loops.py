"""Full service loops driven through the gateway, many at once, patient with outages.

A loop is what people do: the resident orders (点单), dispatch offers it to a volunteer (派单), the
volunteer accepts, checks in and completes it (接单), the resident rates it (评单), the request closes.
Every call goes through the gateway. A call that meets an outage (503, a refused connection) is
repeated until the patience runs out; the 503s met on the way are kept for the tests to inspect.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.support import bearer

TOWNSHIP = "城东街道"
SKILL = "elder_care"
SCORE = 5
RETRYABLE = {502, 503, 504, 429}


@dataclass
class Outage:
    """One answer that said 'not now'."""

    method: str
    path: str
    status: int
    content_type: str
    body: Any
    at: float


@dataclass
class Loop:
    """What one loop did, step by step."""

    number: int
    request_id: str | None = None
    volunteer_id: str | None = None
    task_id: str | None = None
    submit_statuses: list[int] = field(default_factory=list)
    closed: bool = False
    error: str | None = None
    submitted_at: float = 0.0
    seconds: float = 0.0


class Driver:
    """Runs loops through the gateway with a pool of threads."""

    def __init__(self, gateway_url: str, *, patience: float = 240.0, poll: float = 0.25) -> None:
        self.gateway_url = gateway_url.rstrip("/")
        self.patience = patience
        self.poll = poll
        self.admin = bearer("admin", "faults-admin")
        self.outages: list[Outage] = []
        self.refused = 0
        self._local = threading.local()
        self._lock = threading.Lock()
        self.submitted = 0
        self.closed = 0

    # -- HTTP -------------------------------------------------------------------------------------
    @property
    def session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def call(
        self,
        method: str,
        path: str,
        who: dict[str, str],
        seen: list[int] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """One call, repeated while the platform says 'not now' (5xx outage answers, refused connections).

        `seen` collects the status of every attempt.
        """
        deadline = time.monotonic() + self.patience
        pause = 0.2
        headers = {**who, **kwargs.pop("headers", {})}
        while True:
            try:
                response = self.session.request(
                    method, self.gateway_url + path, headers=headers, timeout=20, **kwargs
                )
            except requests.ConnectionError:
                with self._lock:
                    self.refused += 1
                response = None
            if response is not None and seen is not None:
                seen.append(response.status_code)
            if response is not None and response.status_code not in RETRYABLE:
                return response
            if response is not None:
                with self._lock:
                    self.outages.append(self._outage(method, path, response))
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} {path} kept failing for {self.patience}s")
            time.sleep(pause)
            pause = min(pause * 1.5, 2.0)

    @staticmethod
    def _outage(method: str, path: str, response: requests.Response) -> Outage:
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text[:300]
        return Outage(
            method, path, response.status_code, response.headers.get("Content-Type", ""), body, time.time()
        )

    def wait(self, what: str, check: Callable[[], Any]) -> Any:
        """Poll `check` until it returns something truthy."""
        deadline = time.monotonic() + self.patience
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            time.sleep(self.poll)
        raise AssertionError(f"timed out after {self.patience}s waiting for {what}")

    # -- set-up -----------------------------------------------------------------------------------
    def register_volunteers(self, count: int, capacity: int = 4, tag: str = "v") -> list[str]:
        """Volunteers who can take the loops' orders; returns once dispatch knows every one of them."""
        ids = []
        for number in range(count):
            body = {
                "name": f"故障志愿者{tag}{number}",
                "phone": f"1380000{number:04d}",
                "township": TOWNSHIP,
                "skills": [SKILL],
                "capacity": capacity,
            }
            response = self.call("POST", "/api/v1/volunteers", self.admin, json=body)
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        for volunteer_id in ids:
            self.wait(
                f"dispatch to know volunteer {volunteer_id}",
                lambda v=volunteer_id: self.call("GET", f"/api/v1/dispatch/volunteers/{v}", self.admin).ok,
            )
        return ids

    # -- one loop ---------------------------------------------------------------------------------
    def run_loop(self, number: int, tag: str) -> Loop:
        """One full loop; never raises: failures are recorded on the loop."""
        loop = Loop(number)
        started = time.monotonic()
        try:
            self._steps(loop, tag)
            loop.closed = True
            with self._lock:
                self.closed += 1
        except Exception as error:
            loop.error = f"{type(error).__name__}: {error}"[:300]
        loop.seconds = time.monotonic() - started
        return loop

    def _steps(self, loop: Loop, tag: str) -> None:
        resident = bearer("resident", f"faults-{tag}-resident-{loop.number}")
        body = {
            "category": SKILL,
            "title": "陪老人看病",
            "description": "周三上午陪同去县医院复查",
            "township": TOWNSHIP,
            "village": "东门社区",
            "contact_phone": "13712345678",
        }
        # The key makes the order safe to repeat: an attempt that met an outage wrote nothing, or
        # the repeat returns what it wrote.
        key = {"Idempotency-Key": f"faults-{tag}-{loop.number}"}
        response = self.call(
            "POST", "/api/v1/requests", resident, seen=loop.submit_statuses, json=body, headers=key
        )
        assert response.status_code in (200, 201), f"submit: {response.status_code} {response.text[:200]}"
        loop.request_id = request_id = response.json()["id"]
        loop.submitted_at = time.time()
        with self._lock:
            self.submitted += 1

        def offered() -> Any:
            answer = self.call("GET", f"/api/v1/dispatch/{request_id}", self.admin)
            attempts = answer.json()["attempts"] if answer.ok else []
            return attempts and attempts[-1]["status"] == "offered" and attempts[-1]

        attempt = self.wait(f"an offer for {request_id}", offered)
        loop.volunteer_id, loop.task_id = attempt["volunteer_id"], attempt["task_id"]
        volunteer = bearer("volunteer", loop.volunteer_id)
        task_path = f"/api/v1/tasks/{loop.task_id}"
        self.wait(f"task {loop.task_id} in the inbox", lambda: self.call("GET", task_path, volunteer).ok)

        self._step(task_path, volunteer, "accept", None, {"accepted", "in_service", "completed"})
        # Check-in and check-out need the code the resident reads out (ADR 0051).
        code = {"code": self.service_code(request_id, resident)}
        self._step(task_path, volunteer, "check-in", code, {"in_service", "completed"})
        self._step(task_path, volunteer, "check-out", code, {"completed"})

        rating_path = f"/api/v1/ratings/{request_id}"
        self.wait(f"the rating slot of {request_id}", lambda: self.call("GET", rating_path, resident).ok)
        answer = self.call(
            "POST", "/api/v1/ratings", resident, json={"request_id": request_id, "score": SCORE}
        )
        if answer.status_code != 201:
            slot = self.call("GET", rating_path, resident).json()
            assert answer.status_code == 409 and slot["status"] == "rated", f"rate: {answer.text}"

        self.wait(
            f"{request_id} closed",
            lambda: (
                self.call("GET", f"/api/v1/requests/{request_id}", resident).json().get("status") == "closed"
            ),
        )

    def service_code(self, request_id: str, resident: dict[str, str]) -> str:
        """The code the resident sees on their request once the task is accepted."""
        path = f"/api/v1/requests/{request_id}"
        return self.wait(
            f"the service code of {request_id}",
            lambda: (answer := self.call("GET", path, resident)).ok and answer.json().get("service_code"),
        )

    def _step(
        self, task_path: str, volunteer: dict[str, str], step: str, body: Any, reached: set[str]
    ) -> None:
        answer = self.call("POST", f"{task_path}/{step}", volunteer, json=body)
        if answer.status_code == 200:
            return
        # A repeat of a step whose first answer was lost: fine if the task is past it already.
        status = self.call("GET", task_path, volunteer).json().get("status")
        assert answer.status_code == 409 and status in reached, f"{step}: {answer.status_code} {answer.text}"

    # -- many loops -------------------------------------------------------------------------------
    def run_many(self, count: int, tag: str, concurrency: int = 16) -> list[Loop]:
        """`count` loops, `concurrency` at a time."""
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=f"loop-{tag}") as pool:
            return list(pool.map(lambda n: self.run_loop(n, tag), range(count)))
