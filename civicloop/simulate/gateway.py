"""The simulator's HTTP client: every call through the gateway, patient with outages and rate limits."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import requests

from services.common.auth import issue_token

# Answers that mean "not now": an outage of the service behind the gateway, or the gateway's limits.
RETRYABLE = frozenset({429, 502, 503, 504})


class GatewayGone(Exception):
    """The gateway kept refusing for longer than the simulator's patience."""


class Gateway:
    """Calls as one of the county's people; a token per person, a session per thread."""

    def __init__(self, base_url: str, secret: str, *, patience: float = 180.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.patience = patience
        self._local = threading.local()
        self._tokens: dict[tuple[str, str, str | None], str] = {}
        self._lock = threading.Lock()
        self.calls = 0
        self.retries = 0

    def token(self, sub: str, role: str, township: str | None = None) -> str:
        """A signed token for this person (tokens live three real days: a run outlasts none)."""
        key = (sub, role, township)
        with self._lock:
            if key not in self._tokens:
                self._tokens[key] = issue_token(
                    self.secret, sub=sub, role=role, township=township, ttl=timedelta(days=3)
                )
            return self._tokens[key]

    @property
    def session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def call(
        self,
        method: str,
        path: str,
        who: tuple[str, str] | tuple[str, str, str | None],
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """One call as `who` = (sub, role[, township]); repeated while the platform says "not now"."""
        token = self.token(*who)
        all_headers = {"Authorization": f"Bearer {token}", **(headers or {})}
        deadline = time.monotonic() + self.patience
        pause = 0.2
        while True:
            try:
                response = self.session.request(
                    method, self.base_url + path, json=json, params=params, headers=all_headers, timeout=30
                )
                with self._lock:
                    self.calls += 1
                if response.status_code not in RETRYABLE:
                    return response
            except (requests.ConnectionError, requests.Timeout):
                self._local.session = requests.Session()
            with self._lock:
                self.retries += 1
            if time.monotonic() > deadline:
                raise GatewayGone(f"{method} {path}: no answer but 'not now' for {self.patience:.0f} s")
            time.sleep(pause)
            pause = min(pause * 1.5, 3.0)

    def get_json(self, path: str, who: tuple[str, ...], **params: Any) -> dict[str, Any] | None:
        """The JSON of a GET, or None on 404."""
        response = self.call("GET", path, who, params=params or None)  # type: ignore[arg-type]
        if response.status_code == 404:
            return None
        if not response.ok:
            raise RuntimeError(f"GET {path} → {response.status_code}: {response.text[:300]}")
        return response.json()

    def created(self, path: str, who: tuple[str, ...], body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """POST that must create (201, or 200 for a repeated Idempotency-Key); fails loudly otherwise."""
        response = self.call("POST", path, who, json=body, **kwargs)  # type: ignore[arg-type]
        if response.status_code not in (200, 201):
            raise RuntimeError(f"POST {path} → {response.status_code}: {response.text[:300]}")
        return response.json()
