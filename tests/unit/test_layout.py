"""The layout's rules (DESIGN.md "Layout"): import directions, and one declared contract per route."""

from __future__ import annotations

import os
from importlib import import_module
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

from services.common.settings import SERVICES

ROOT = Path(__file__).resolve().parents[2]


def test_import_rules_hold():
    """common imports no service, no service imports another, no circle between feature packages."""
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


@pytest.fixture(scope="module")
def documents() -> dict[str, dict]:
    found = {}
    # Only while the apps are built: a secret left in the environment would sign later tests' tokens.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CIVICLOOP_JWT_SECRET", os.environ.get("CIVICLOOP_JWT_SECRET", "layout-test-secret"))
        for service in SERVICES:
            module = import_module(f"services.{service}")
            found[service] = module.create_app().api_doc
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
                    if media != {"application/problem+json"}:
                        undeclared.append(f"{method.upper()} {path}: {status} is {media}, not problem+json")
    assert not undeclared, "\n".join(undeclared)
