"""Fuzzing on a bounded budget in `make test` (`make fuzz` runs the large one): tests/fuzz/fuzzer.py."""

from __future__ import annotations

import os

import pytest

from tests.e2e.conftest import Gateway
from tests.fuzz.fuzzer import Target, fuzz, report, web_ports
from tests.support import PROFILE, SECRET

pytestmark = pytest.mark.e2e
# About a minute on the development machine: every operation gets cases, valid and invalid.
CASES = int(os.environ.get("CIVICLOOP_FUZZ_CASES", "800"))


def test_generated_cases_meet_no_server_error_and_no_undeclared_answer(gateway: Gateway):
    target = Target(gateway=gateway.base_url, web_ports=web_ports(PROFILE), secret=SECRET)
    tally = fuzz(target, CASES)
    report(tally)
    assert tally.cases >= CASES * 0.9, "every operation got its share of cases"
    assert {status for status in tally.statuses if 200 <= status < 300}, "some cases got through"
    broken = [f"{f.kind} {f.operation} → {f.status}: {f.detail}" for f in tally.findings]
    assert not broken, broken[:3]
