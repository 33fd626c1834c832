"""The layout's rules (DESIGN.md "Layout"): import directions, and one declared contract per route."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

from services import SERVICES
from services.common.settings import Settings
from tests.keys import keyring_json

ROOT = Path(__file__).resolve().parents[2]
# Open311 GeoReport v2 refuses in its own error format (a list of {code, description}) in the format
# asked for, because its clients read that one; everything else it cannot answer is problem+json.
GEOREPORT_PATHS = "/open311/v2/"
GEOREPORT_ERRORS = {"application/json", "text/xml"}


def test_import_rules_hold():
    """common imports no service, no service imports another, no circle between feature packages."""
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


@pytest.fixture(scope="module")
def documents() -> dict[str, dict]:
    found = {}
    for service in SERVICES:
        module = import_module(f"services.{service}")
        # Settings of its own rather than a secret left in the environment, where it would sign the
        # `civicloop` command's tokens for the rest of the session.
        settings = Settings(
            service=service, jwt_secret="layout-test-secret", environment="local", jwt_keys=keyring_json()
        )
        found[service] = module.create_app(settings).api_doc
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_declares_its_success_body(documents, service):
    """Each route names the model of what it answers on success; errors are problem+json."""
    undeclared = []
    for path, operations in documents[service]["paths"].items():
        for method, operation in operations.items():
            responses = operation.get("responses", {})
            successes = [status for status in responses if status.startswith("2")]
            if not successes:
                undeclared.append(f"{method.upper()} {path}: no 2xx response")
                continue
            for status in successes:
                content = responses[status].get("content")
                if status != "204" and not content:
                    undeclared.append(f"{method.upper()} {path}: {status} has no body model")
            for status, answer in responses.items():
                if status[0] in "45":
                    media = set((answer.get("content") or {}).keys())
                    if status[0] == "4" and path.startswith(GEOREPORT_PATHS) and media == GEOREPORT_ERRORS:
                        continue
                    if media != {"application/problem+json"}:
                        undeclared.append(f"{method.upper()} {path}: {status} is {media}, not problem+json")
    assert not undeclared, "\n".join(undeclared)
