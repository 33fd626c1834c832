"""A real Prometheus scrapes the test stack while loops run; its rates equal the loops and the report."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml
from click.testing import CliRunner

from civicloop.cli import main
from civicloop.profiles import ROOT
from services import SERVICES
from tests.e2e.test_loop import (
    current_offer,
    register_volunteers,
    request_status,
    serve,
    submit,
    wait_in_inbox,
)
from tests.support import PROFILE, TEST_PROFILE, bearer, wait_until
from tests.unit.test_dashboards import rabbitmq_metrics_used

pytestmark = pytest.mark.e2e
# No other test orders anything here, so this township's figures are exactly what this test did.
TOWNSHIP = "鹤塘镇"
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def render_config(directory: Path) -> Path:
    """deploy/prometheus/prometheus.yml with the test profile's ports and a 1 s rhythm."""
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text(encoding="utf-8"))
    config["global"].update(scrape_interval="1s", evaluation_interval="1s", scrape_timeout="1s")
    config["rule_files"] = [str(PROMETHEUS_DIR / path) for path in config["rule_files"]]
    seen = set()
    for job in config["scrape_configs"]:
        for group in job["static_configs"]:
            process = group["labels"]["process"]
            seen.add(process)
            if process == "rabbitmq":
                # The shared broker's /metrics covers every engineer's queues: on a loaded machine it
                # takes longer than a second, and a timed-out scrape leaves the series stale.
                job.update(scrape_interval="5s", scrape_timeout="5s")
                continue
            service, kind = process.split("-")
            port = PROFILE[f"{service.upper()}_{'WEB' if kind == 'web' else 'WORKER_METRICS'}_PORT"]
            group["targets"] = [f"127.0.0.1:{port}"]
    assert seen == {f"{s}-{k}" for s in SERVICES for k in ("web", "worker")} | {"rabbitmq"}, (
        "the committed scrape configuration must cover every process"
    )
    path = directory / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


class Prometheus:
    """Queries a running Prometheus's HTTP API."""

    def __init__(self, url: str) -> None:
        self.url = url

    def query(self, expr: str) -> dict[frozenset, float]:
        answer = requests.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=5).json()
        assert answer["status"] == "success", answer
        return {
            frozenset((k, v) for k, v in row["metric"].items() if k != "__name__"): float(row["value"][1])
            for row in answer["data"]["result"]
        }

    def target(self, job: str) -> list[tuple[str, str, str]]:
        """Health, last error and URL of a job's targets (why a series is missing)."""
        answer = requests.get(f"{self.url}/api/v1/targets", timeout=5).json()
        return [
            (target["health"], target["lastError"], target["scrapeUrl"])
            for target in answer["data"]["activeTargets"]
            if target["labels"].get("job") == job
        ]

    def value(self, expr: str, **labels: str) -> float | None:
        """The one sample of `expr` whose labels include `labels`, or None."""
        wanted = set(labels.items())
        found = [value for key, value in self.query(expr).items() if wanted <= key]
        assert len(found) <= 1, f"{expr} has several samples for {labels}"
        return found[0] if found else None


@pytest.fixture(scope="module")
def prometheus(gateway, tmp_path_factory) -> Iterator[Prometheus]:
    """Debian's Prometheus on a loopback port of its own with a throwaway data directory."""
    binary = shutil.which("prometheus")
    assert binary, "prometheus is missing: deploy/local/stack.sh infra installs it"
    directory = tmp_path_factory.mktemp("prometheus")
    port = free_port()
    log = (directory / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={render_config(directory)}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=1h",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _ready(url), timeout=30, what="Prometheus to be ready")
        client = Prometheus(url)
        wait_until(
            lambda: (
                len([v for v in client.query('up{job="civicloop"}').values() if v == 1]) == 2 * len(SERVICES)
            ),
            timeout=30,
            what="Prometheus to scrape every web process and worker",
        )
        yield client
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _ready(url: str) -> bool:
    try:
        return requests.get(f"{url}/-/ready", timeout=1).ok
    except requests.RequestException:
        return False


def drive_loop(gateway, admin, resident_id: str, *, score: int, decline_first: bool) -> str:
    """Order, (decline once,) accept, check in and out with the resident's code, rate: one closed loop."""
    resident = bearer("resident", resident_id)
    created = submit(gateway, resident, township=TOWNSHIP, village="鹤塘社区")
    assert created.status_code == 201, created.text
    request_id = created.json()["id"]
    volunteer_id, task_id = current_offer(gateway, admin, request_id, 1)
    volunteer = bearer("volunteer", volunteer_id)
    wait_in_inbox(gateway, volunteer, task_id)
    if decline_first:
        assert gateway.post(f"/api/v1/tasks/{task_id}/decline", volunteer, json={"reason": "不在家"}).ok
        volunteer_id, task_id = current_offer(gateway, admin, request_id, 2)
        volunteer = bearer("volunteer", volunteer_id)
        wait_in_inbox(gateway, volunteer, task_id)
    serve(gateway, resident, volunteer, request_id, task_id)
    wait_until(lambda: request_status(gateway, resident, request_id) == "completed", what="completed")
    wait_until(
        lambda: (
            gateway.post(
                "/api/v1/ratings", resident, json={"request_id": request_id, "score": score}
            ).status_code
            == 201
        ),
        what="the rating",
    )
    wait_until(lambda: request_status(gateway, resident, request_id) == "closed", what="closed")
    return request_id


def test_prometheus_rates_equal_the_loops_and_the_report(gateway, admin, prometheus):
    register_volunteers(gateway, admin, 3, township=TOWNSHIP)
    scores = [5, 4, 3, 5, 2, 5, 4, 5]
    declined_first = {0, 4}
    started = time.monotonic()
    request_ids = [
        drive_loop(gateway, admin, f"mon-{number}", score=score, decline_first=number in declined_first)
        for number, score in enumerate(scores)
    ]
    # One more order, offered and then cancelled by its resident: submitted, never completed.
    resident = bearer("resident", "mon-resident-cancel")
    cancelled = submit(gateway, resident, township=TOWNSHIP, village="鹤塘社区").json()["id"]
    current_offer(gateway, admin, cancelled, 1)
    assert gateway.post(f"/api/v1/requests/{cancelled}/cancel", resident, json={"reason": "不需要了"}).ok
    loops_seconds = time.monotonic() - started

    loops = len(scores)
    # the declined offers, and the cancelled request's offer, were not accepted
    offers, in_time = loops + len(declined_first) + 1, loops
    expected_rates = {
        "response": in_time / offers,
        "resolution": loops / (loops + 1),
        "satisfaction": sum(score >= 4 for score in scores) / loops,
    }
    expected_stages = {
        "submitted": loops + 1,
        "dispatched": loops + 1,
        "accepted": loops,
        "in_service": loops,
        "completed": loops,
        "rated": loops,
        "closed": loops,
        "cancelled": 1,
    }

    def stages() -> dict[str, float]:
        rows = prometheus.query(f'township_stage:civicloop_request_transitions:sum{{township="{TOWNSHIP}"}}')
        return {dict(key)["stage"]: value for key, value in rows.items()}

    def by_process() -> dict[str, dict[str, float]]:
        rows = prometheus.query(f'civicloop_request_transitions_total{{township="{TOWNSHIP}"}}')
        found: dict[str, dict[str, float]] = {}
        for key, value in rows.items():
            labels = dict(key)
            stage_counts = found.setdefault(labels.get("process", labels.get("instance", "?")), {})
            stage_counts[labels["stage"]] = stage_counts.get(labels["stage"], 0) + value
        return found

    def targets_down() -> list[str]:
        return [str(dict(key).get("process")) for key, value in prometheus.query("up").items() if value != 1]

    def prometheus_rates() -> dict[str, float | None]:
        return {
            rate: prometheus.value(f"township:civicloop_{rate}_rate:ratio", township=TOWNSHIP)
            for rate in ("response", "resolution", "satisfaction")
        }

    seen: dict[str, object] = {}

    def caught_up() -> bool:
        seen["stages"], seen["rates"] = stages(), prometheus_rates()
        seen["offers"] = prometheus.value("township:civicloop_offers:sum", township=TOWNSHIP)
        return (
            all(seen["stages"].get(stage) == count for stage, count in expected_stages.items())
            and seen["offers"] == offers
            and seen["rates"] == pytest.approx(expected_rates)
        )

    # Prometheus scrapes every second and evaluates the rules every second: wait for it to catch up.
    try:
        # A bound, not a target: on a loaded machine the workers may be a while behind the loops.
        wait_until(caught_up, timeout=120, interval=0.5, what="Prometheus to see the loops")
    except AssertionError as late:
        raise AssertionError(
            f"{late}; expected stages {expected_stages}, offers {offers}, rates {expected_rates}; last seen "
            f"{seen}; by process {by_process()}; targets down {targets_down()}"
        ) from None
    from_prometheus = prometheus_rates()

    report = gateway.get("/api/v1/stats/rollout", admin, params={"township": TOWNSHIP})
    assert report.status_code == 200, report.text
    figures = report.json()
    (row,) = figures["townships"]
    assert row["township"] == TOWNSHIP
    assert row["rates"] == pytest.approx(from_prometheus, abs=1e-4)
    assert row["rates"] == pytest.approx(expected_rates, abs=1e-4)
    assert row["counts"] == {
        "submitted": loops + 1,
        "completed": loops,
        "offers": offers,
        "offers_accepted_in_time": in_time,
        "ratings": loops,
        "ratings_4_or_5": sum(score >= 4 for score in scores),
    }
    assert row["activities"] == loops and row["volunteer_participations"] == loops
    assert (
        row["people_served"] == loops and row["volunteer_hours"] == 0.25 * loops
    )  # minutes count as a quarter hour
    hours = prometheus.value(f'sum by (township) (civicloop_volunteer_hours_total{{township="{TOWNSHIP}"}})')
    participations = prometheus.value(
        f'sum by (township) (civicloop_volunteer_participations_total{{township="{TOWNSHIP}"}})'
    )
    assert (hours, participations) == (row["volunteer_hours"], row["volunteer_participations"])
    # A period that ended before the loops holds none of them.
    empty = gateway.get(
        "/api/v1/stats/rollout", admin, params={"township": TOWNSHIP, "to": "2020-01-01"}
    ).json()
    assert empty["total"]["counts"]["submitted"] == 0 and empty["total"]["rates"]["response"] is None

    # The command-line report reads the same endpoint and draws the chart.
    chart = Path(PROMETHEUS_DIR.parent.parent / ".run" / TEST_PROFILE / "rates.png")
    chart.parent.mkdir(parents=True, exist_ok=True)
    result = CliRunner().invoke(
        main, ["report", "--township", TOWNSHIP, "--profile", TEST_PROFILE, "--png", str(chart), "--json"]
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["townships"][0]["rates"] == row["rates"]
    assert chart.read_bytes().startswith(b"\x89PNG")

    # RabbitMQ's own metrics the dashboard shows come from the broker's prometheus plugin.
    for name in rabbitmq_metrics_used():
        try:
            wait_until(
                lambda name=name: prometheus.query(f"count(last_over_time({name}[5m]))"),
                timeout=60,
                what=f"Prometheus to have {name} from RabbitMQ",
            )
        except AssertionError as error:
            broker = prometheus.target("rabbitmq")
            raise AssertionError(f"{error}; the broker's scrape target: {broker}") from None

    # One request can be followed through all four services' JSON logs by its id.
    logs = ROOT / ".run" / TEST_PROFILE / "logs"
    followed = CliRunner().invoke(main, ["trace", request_ids[-1], "--logs", str(logs), "--json"])
    assert followed.exit_code == 0, followed.output
    lines = [json.loads(line) for line in followed.stdout.splitlines()]
    workers = {line["service"] for line in lines if line.get("process") == "worker"}
    # Every stage's worker; the accounts worker, when it notified someone about it, may add its lines.
    assert {"requests", "dispatch", "volunteers", "ratings"} <= workers <= set(SERVICES)
    assert any(
        line.get("method") == "POST" and line.get("path") == "/api/v1/requests" and line["status"] == 201
        for line in lines
    ), "the ordering call's log line names the request"

    # The alerts that must stay quiet on a healthy stack do.
    firing = requests.get(f"{prometheus.url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    assert not [
        a for a in firing if a["labels"]["alertname"] in ("CivicloopServiceDown", "CivicloopDeadLetters")
    ]
    agree = row["rates"] == pytest.approx(from_prometheus, abs=1e-4)
    print(
        f"\nloops={loops} (+1 cancelled) in {loops_seconds:.1f}s; prometheus rates={from_prometheus}; "
        f"report rates={row['rates']}; agree={agree}"
    )
    # Kept for the closing note of a CI-like run, like the fault suite's counts.
    figures = ROOT / "bench-results" / "monitoring.json"
    figures.parent.mkdir(exist_ok=True)
    summary = {"loops": loops, "cancelled": 1, "seconds": round(loops_seconds, 1), "agree": agree}
    summary |= {"prometheus_rates": from_prometheus, "report_rates": row["rates"]}
    figures.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
