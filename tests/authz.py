"""The authorization matrix (tests/authz_matrix.yaml): its rows, its cells, and the routes it must cover."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

import yaml

from services import SERVICES
from services.common.settings import Settings
from tests.keys import keyring_json

MATRIX = Path(__file__).with_name("authz_matrix.yaml")
ROLES = ("anonymous", "resident", "volunteer", "steward", "dispatcher", "dispatcher_elsewhere", "admin")
OWNERSHIP = ("own", "others", "elsewhere")
OUTCOMES = {"ok", 401, 403, 404, 422}
# Served by each process for operators and probes, never through the gateway.
OPERATIONAL = ("/healthz", "/readyz", "/metrics", "/openapi.json")
ROW_KEYS = {"params", "query", "body", "form", "default", *ROLES}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Cell:
    """One expectation: a role calling a route on a record of some ownership (None: no record named)."""

    route: str
    role: str
    ownership: str | None
    expected: str | int


@dataclass
class Row:
    """A route's row: how to call it, and what each role gets."""

    route: str
    outcomes: dict[str, Any]
    params: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    form: dict[str, Any] | None = None

    @property
    def method(self) -> str:
        return self.route.split(" ", 1)[0]

    @property
    def path(self) -> str:
        return self.route.split(" ", 1)[1]

    @property
    def names_a_record(self) -> bool:
        """Whether the call names a record (path parameter or placeholder), so ownership applies."""
        named = set(PLACEHOLDER.findall(self.path)) - {"fmt"}
        named |= set(PLACEHOLDER.findall(str([self.query, self.body, self.form])))
        return bool(named - {"unique", "api_key", "category", "fresh_phone", "password"})

    def expectation(self, role: str, ownership: str | None) -> str | int:
        """The outcome written for a cell."""
        value = self.outcomes.get(role, self.outcomes.get("default"))
        if isinstance(value, dict):
            value = value.get(ownership or "others", value.get("default"))
        if value not in OUTCOMES:
            raise ValueError(
                f"{self.route}: {role}/{ownership} has no outcome (or an unknown one: {value!r})"
            )
        return value

    def cells(self) -> Iterator[Cell]:
        """Every cell of the row: each role, and each ownership when the call names a record."""
        for role in ROLES:
            for ownership in OWNERSHIP if self.names_a_record else (None,):
                yield Cell(self.route, role, ownership, self.expectation(role, ownership))


def load_matrix(path: Path = MATRIX) -> dict[str, Row]:
    """The rows of the matrix, by route."""
    rows = {}
    for route, spec in yaml.safe_load(path.read_text()).items():
        unknown = set(spec) - ROW_KEYS
        if unknown:
            raise ValueError(f"{route}: unknown keys {sorted(unknown)}")
        outcomes = {key: value for key, value in spec.items() if key in ROLES or key == "default"}
        rows[route] = Row(
            route,
            outcomes,
            params=spec.get("params") or {},
            query=spec.get("query") or {},
            body=spec.get("body"),
            form=spec.get("form"),
        )
    return rows


def served_routes() -> set[str]:
    """Every route the services' apps serve, "METHOD /path/{param}", from their url_maps."""
    routes = set()
    for service in SERVICES:
        settings = Settings(
            service=service, jwt_secret="authz-matrix-secret", environment="local", jwt_keys=keyring_json()
        )
        app = import_module(f"services.{service}").create_app(settings)
        for rule in app.url_map.iter_rules():
            if rule.rule.startswith(OPERATIONAL) or rule.endpoint == "static":
                continue
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routes.add(f"{method} {path}")
    return routes


def fill(template: Any, world: dict[str, str]) -> Any:
    """A query, body or form with each `{name}` replaced by the world's value."""
    if isinstance(template, str):
        whole = PLACEHOLDER.fullmatch(template)
        if whole:
            return world[whole.group(1)]
        return PLACEHOLDER.sub(lambda match: world[match.group(1)], template)
    if isinstance(template, list):
        return [fill(item, world) for item in template]
    if isinstance(template, dict):
        return {key: fill(value, world) for key, value in template.items()}
    return template


def matches(expected: str | int, status: int) -> bool:
    """Whether an answer is what the cell expects (`ok`: let in, whatever the record's state said)."""
    if expected == "ok":
        return 200 <= status < 300 or status == 409
    return status == expected
