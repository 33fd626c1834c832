"""The Prometheus configuration, recording and alert rules pass promtool's checks and their unit tests."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from civicloop.profiles import ROOT

PROMETHEUS = ROOT / "deploy" / "prometheus"
RULE_FILES = sorted(str(path) for path in (PROMETHEUS / "rules").glob("*.yml"))


def promtool(*arguments: str) -> subprocess.CompletedProcess[str]:
    """Run promtool (Debian's prometheus package, installed by deploy/local/stack.sh infra)."""
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool is missing: run `deploy/local/stack.sh infra <profile>` (installs prometheus)")
    return subprocess.run([binary, *arguments], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120)


def test_rule_files_are_valid():
    assert len(RULE_FILES) == 2
    checked = promtool("check", "rules", *RULE_FILES)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("SUCCESS") == 2


def test_scrape_configuration_is_valid():
    checked = promtool("check", "config", "prometheus.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_rule_unit_tests_pass():
    tested = promtool("test", "rules", "tests/rules_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout
