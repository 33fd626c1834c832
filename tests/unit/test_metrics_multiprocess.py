"""Several gunicorn workers, one /metrics: counts add up, dead workers' gauges go, stale files are removed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from civicloop.profiles import ROOT

# Each "worker" is a real process writing its own files, as gunicorn's forked workers do.
WORKER = textwrap.dedent(
    """
    import sys
    from services.requests.metrics import OFFERS, OPEN_REQUESTS
    OFFERS.labels("平湖镇", "elder_care").inc(int(sys.argv[1]))
    OPEN_REQUESTS.labels("平湖镇", "submitted").set(int(sys.argv[2]))
    print(__import__("os").getpid())
    """
)
SCRAPE = textwrap.dedent(
    """
    import json
    from prometheus_client.parser import text_string_to_metric_families
    from services.common.metrics import render_latest
    body, _ = render_latest()
    samples = {
        s.name: s.value
        for f in text_string_to_metric_families(body.decode())
        for s in f.samples
        if s.name in ("civicloop_offers_total", "civicloop_open_requests")
    }
    print(json.dumps(samples))
    """
)


def run(code: str, directory: Path, *args: str) -> str:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_workers_add_up_and_a_dead_workers_gauge_and_stale_files_go(tmp_path):
    from services.common import runner

    first = run(WORKER, tmp_path, "2", "7")
    run(WORKER, tmp_path, "3", "5")
    merged = json.loads(run(SCRAPE, tmp_path))
    assert merged == {"civicloop_offers_total": 5.0, "civicloop_open_requests": 7.0}

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path)
    try:
        runner._child_exit(None, type("DeadWorker", (), {"pid": int(first)})())
        after_death = json.loads(run(SCRAPE, tmp_path))
        # the counter keeps what the dead worker counted; its live gauge no longer counts
        assert after_death == {"civicloop_offers_total": 5.0, "civicloop_open_requests": 5.0}

        runner._clean_metrics_dir(None)
        assert not list(tmp_path.glob("*.db"))
        assert json.loads(run(SCRAPE, tmp_path)) == {}
    finally:
        del os.environ["PROMETHEUS_MULTIPROC_DIR"]
