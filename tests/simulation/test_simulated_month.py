"""A small county's month at high speed through the real stack: the report equals the ground truth.

The simulator starts a stack of its own (a profile derived from the test profile, a RabbitMQ node of
its own), runs twelve days, stops and saves, resumes for the rest of the month, then accounts for
every order it started against the platform's state and `GET /api/v1/stats/rollout`.
"""

from __future__ import annotations

import os

import pytest
from pypdf import PdfReader

from civicloop.profiles import Profile
from civicloop.simulate.command import simulate
from tests.simulation.profile import write_sim_profile
from tests.support import TEST_PROFILE

pytestmark = pytest.mark.simulation
DAYS = 30
# A simulated month in about three minutes of real time. At ×20,000 the volunteers' pairing sweep,
# which visits each simulated minute's bucket (two finds a minute, ~666 a real second), fell behind the
# clock on a busy machine, and the month's last pairing visits were made after it ended.
SPEED = 10_000


@pytest.fixture(scope="module")
def profile():
    if os.geteuid() != 0:
        pytest.skip("the simulation starts a RabbitMQ node of its own, which takes root (as in CI)")
    return Profile.load(write_sim_profile(TEST_PROFILE))


def test_a_month_stops_resumes_and_every_order_is_accounted_for(profile, tmp_path):
    common = dict(
        profile=profile,
        scenario_path="small",
        days=DAYS,
        speed=SPEED,
        seed=7,
        chaos=False,
        out=tmp_path,
        threads=8,
        drain_days=2,
        show=False,
        echo=print,
    )
    first = simulate(**common, resume=False, keep=True, stop_at_day=12)
    assert not first.truth.finished and first.accounting is None
    stopped_at = first.truth.reached
    assert 12 <= (stopped_at - first.truth.origin) / 86400 < 14
    assert (tmp_path / "state.json").exists()

    outcome = simulate(**common, resume=True, keep=False)
    truth, accounting = outcome.truth, outcome.accounting
    assert truth.finished and accounting is not None
    assert truth.reached >= truth.origin + DAYS * 86400
    # The resumed run went on from the saved orders: the first part's are still there, none twice.
    assert set(first.truth.orders) <= set(truth.orders)

    # Nothing lost, nothing done twice, nothing stuck; every order got in.
    assert accounting.lost == [] and accounting.doubled == [] and accounting.stuck == [], accounting.details
    assert accounting.never_submitted == []
    started = [o for o in truth.orders.values() if o.submitted_at]
    assert len(started) >= 80, "a month of the small county starts about a hundred orders"
    assert sum(accounting.outcomes.values()) == len(started)
    assert accounting.outcomes["closed"] >= len(started) // 2
    # Every pairing visit that fell due became an order.
    due = [o for o in truth.orders.values() if o.kind == "visit"]
    assert len(due) >= accounting.visits_expected > 0

    # The report's figures, per township and in total, equal what the simulator did.
    assert outcome.mismatches == []
    total = outcome.rollout["total"]
    assert total["counts"]["submitted"] == sum(1 for o in started if o.request_id)
    assert total["activities"] == sum(1 for o in truth.orders.values() if o.completions) > 0
    assert total["counts"]["ratings"] == sum(1 for o in truth.orders.values() if o.score is not None)
    filed = {
        tier: sum(1 for o in started if o.tier == tier) for tier in total["patrol_reports"] if tier != "total"
    }
    assert {tier: total["patrol_reports"][tier] for tier in filed} == filed

    text = outcome.files["markdown"].read_text(encoding="utf-8")
    assert "lost 0, doubled 0, stuck 0" in text and "Every township's figures equal the ground truth." in text
    pdf = PdfReader(outcome.files["pdf"])
    assert len(pdf.pages) >= 4  # the report and its charts
    assert "accounted" in pdf.pages[0].extract_text()
