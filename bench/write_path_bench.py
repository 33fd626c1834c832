"""The write path side by side: `POST /api/v1/requests` against a hello-JSON Flask POST, same gunicorn.

Both run on gunicorn with the settings of the project's web processes (services/common/runner.py:
2 workers, gthread × 4 threads, keep-alive 5 s); wrk (Debian's package, 4.1) drives each straight
to its port, without the gateway, with 2 threads and 16 connections for `--seconds`, alternating
hello and requests `--repeats` times. Every POST carries a fresh Idempotency-Key and a resident's
token, so each is a new order written with its outbox event (the relay does not run: nothing
publishes, which is the bus benchmark's part).

    .venv/bin/python bench/write_path_bench.py --profile test-h14 --seconds 10 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from civicloop.profiles import Profile  # noqa: E402

HELLO_APP = '''
import os
import uuid

from flask import Flask, jsonify, request
from pymongo import MongoClient

app = Flask(__name__)
stored = MongoClient(os.environ["BENCH_MONGO_URL"]).get_default_database()["orders"]


@app.post("/hello")
def hello():
    """Read the JSON body and answer JSON: the least a JSON POST can do."""
    body = request.get_json()
    return jsonify({"ok": True, "title": body.get("title")}), 201


@app.post("/hello-insert")
def hello_insert():
    """The same, and the body stored as one new document: the least a write can do on this server."""
    body = request.get_json()
    document = {"_id": uuid.uuid4().hex, **body}
    stored.insert_one(document)
    return jsonify({"ok": True, "id": document["_id"]}), 201
'''

WRK_SCRIPT = """
local counter = 0
local prefix = tostring(math.random(1, 1e9)) .. "-" .. tostring(os.time())
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
wrk.body = [[%(body)s]]
request = function()
  counter = counter + 1
  wrk.headers["Idempotency-Key"] = prefix .. "-" .. counter
  return wrk.format(nil, "%(path)s")
end
"""

BODY = {
    "category": "elder_care",
    "title": "帮忙买菜",
    "description": "腿脚不便，想请志愿者帮忙买一周的菜",
    "township": "平湖镇",
    "village": "平湖村",
    "address": "平湖村 3 组 12 号",
    "urgency": "normal",
    "contact_phone": "13800000000",
}


def free_port() -> int:
    """A free loopback port (the bench's processes only live for the run)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int, seconds: float = 60) -> None:
    """Until something listens on `port`."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


def requests_settings(values: dict[str, str], database: str) -> Any:
    """The requests service's settings on a database of the bench's own in the profile's server."""
    from services.common.settings import Settings

    return Settings(
        service="requests",
        mongo_url=f"mongodb://127.0.0.1:{values['REQUESTS_DB_PORT']}/{database}",
        postgres_url=f"postgresql://postgres@127.0.0.1:{values['PG_PORT']}/ferretdb_requests",
        log_level="WARNING",
    )


def prepare_database(values: dict[str, str], database: str) -> None:
    """A fresh database for the bench with the requests service's indexes (its worker makes them)."""
    from services import requests
    from services.common import db

    settings = requests_settings(values, database)
    db.connect_database(settings)
    import mongoengine

    mongoengine.get_db().client.drop_database(database)
    db.ensure_indexes(*requests.worker_spec().documents, settings=settings)


def settle_rate(values: dict[str, str], database: str) -> dict[str, float]:
    """Settle what the POSTs left for the worker's sweep (their rollups), as the sweep does; per second."""
    from services.common import db, locks
    from services.requests.orders.models import requests_store

    settings = requests_settings(values, database)
    db.connect_database(settings)
    locks.configure(enabled=settings.document_locks)
    started = time.perf_counter()
    settled = 0
    while done := requests_store.settle_pending():
        settled += done
    elapsed = time.perf_counter() - started
    return {"settled": settled, "settled_per_second": round(settled / elapsed, 1) if settled else 0.0}


def start_requests_web(
    values: dict[str, str], port: int, folder: Path, database: str, code: Path = ROOT
) -> subprocess.Popen:
    """The requests service's web process, as the stack runs it, on a database of the bench's own."""
    metrics = folder / f"metrics-{port}"
    metrics.mkdir()
    env = {
        **os.environ,
        **values,
        "REQUESTS_MONGO_URL": f"mongodb://127.0.0.1:{values['REQUESTS_DB_PORT']}/{database}",
        "REQUESTS_POSTGRES_URL": f"postgresql://postgres@127.0.0.1:{values['PG_PORT']}/ferretdb_requests",
        "CIVICLOOP_AMQP_URL": values["CIVICLOOP_IT_AMQP_URL"],
        # As in production: answers are not checked against the OpenAPI document at run time.
        "CIVICLOOP_CHECK_RESPONSES": "false",
        "CIVICLOOP_LOG_LEVEL": "WARNING",
        "CIVICLOOP_JWT_JWKS_URL": "",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        "CIVICLOOP_PROCESS": "web",
    }
    command = [sys.executable, "-m", "services.requests", "web", "--port", str(port), "--workers", "2"]
    return subprocess.Popen(command, cwd=code, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_hello(port: int, folder: Path, mongo_url: str) -> subprocess.Popen:
    """The hello-JSON app on gunicorn with the web processes' settings."""
    (folder / "hello_app.py").write_text(HELLO_APP)
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = [
        str(gunicorn), "--bind", f"127.0.0.1:{port}", "--workers", "2", "--worker-class", "gthread",
        "--threads", "4", "--timeout", "30", "--graceful-timeout", "10", "--keep-alive", "5",
        "--log-level", "warning", "hello_app:app",
    ]  # fmt: skip
    env = {**os.environ, "BENCH_MONGO_URL": mongo_url}
    quiet = subprocess.DEVNULL
    return subprocess.Popen(command, cwd=folder, env=env, stdout=quiet, stderr=quiet)


def wrk(url: str, path: str, token: str, seconds: int, folder: Path) -> dict[str, float]:
    """One wrk run; requests/s, p50 and p99 in ms, and the count of non-2xx answers."""
    script = folder / "post.lua"
    body = json.dumps(BODY, ensure_ascii=False)
    script.write_text(WRK_SCRIPT % {"token": token, "body": body, "path": path})
    done = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-s", str(script), url],
        check=True,
        capture_output=True,
        text=True,
    )
    return parse_wrk(done.stdout)


def parse_wrk(output: str) -> dict[str, float]:
    """Requests/s, latency percentiles (ms) and non-2xx count from wrk's report."""

    def millis(text: str) -> float:
        number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = millis(re.search(r"\s50%\s+(\S+)", output).group(1))
    p99 = millis(re.search(r"\s99%\s+(\S+)", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    return {
        "requests_per_second": rate,
        "p50_ms": p50,
        "p99_ms": p99,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(0) if errors else "",
    }


def stop(process: subprocess.Popen) -> None:
    """Stop a process we started, and wait for it."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def checkout(revision: str, folder: Path) -> Path:
    """services/ as of `revision`, unpacked under `folder`."""
    code = folder / "before"
    code.mkdir()
    archive = subprocess.run(
        ["git", "archive", revision, "services"], cwd=ROOT, check=True, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", str(code)], input=archive.stdout, check=True)
    return code


def measure(profile: str, seconds: int, repeats: int, before: str | None = None) -> dict[str, Any]:
    """Start both servers, alternate wrk runs against them, and return the medians and their ratio."""
    from services.common.auth import issue_token

    values = Profile.load(profile).values()
    token = issue_token(values["CIVICLOOP_JWT_SECRET"], sub="bench-resident-1", role="resident")
    folder = Path(tempfile.mkdtemp(prefix="write-path-"))
    requests_port, hello_port = free_port(), free_port()
    prepare_database(values, "bench_write")
    prepare_database(values, "bench_write_floor")
    servers = [
        start_requests_web(values, requests_port, folder, "bench_write"),
        start_hello(
            hello_port, folder, f"mongodb://127.0.0.1:{values['REQUESTS_DB_PORT']}/bench_write_floor"
        ),
    ]
    ports = {"hello": hello_port, "hello_insert": hello_port, "requests": requests_port}
    paths = {"hello": "/hello", "hello_insert": "/hello-insert"}
    if before:
        ports["before"] = free_port()
        prepare_database(values, "bench_write_before")
        code = checkout(before, folder)
        servers.append(start_requests_web(values, ports["before"], folder, "bench_write_before", code))
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in ports}
    try:
        for port in ports.values():
            wait_for(port)
        url = "http://127.0.0.1:{}".format
        targets = {name: (url(port), paths.get(name, "/api/v1/requests")) for name, port in ports.items()}
        # Warm both up (imports, first connections, the day's code counter).
        for url, path in targets.values():
            wrk(url, path, token, 2, folder)
        for repeat in range(repeats):
            order = list(ports) if repeat % 2 == 0 else list(reversed(ports))
            for name in order:
                result = wrk(*targets[name], token, seconds, folder)
                runs[name].append(result)
                print(f"[{repeat + 1}/{repeats}] {name:8s} {json.dumps(result)}", flush=True)
    finally:
        for server in servers:
            stop(server)
        shutil.rmtree(folder, ignore_errors=True)
    # The rollups the new requests left for the worker, settled the way its sweep does (after the runs,
    # so they take no core from them): what the county report's figures cost per order.
    settling = settle_rate(values, "bench_write")
    print(f"settled afterwards: {json.dumps(settling)}", flush=True)
    medians = {
        name: statistics.median(r["requests_per_second"] for r in found) for name, found in runs.items()
    }
    summary: dict[str, Any] = {
        "tool": "wrk 4.1.0 (Debian), -t2 -c16 --latency, straight to the web process",
        "gunicorn": "2 workers, gthread × 4 threads, keep-alive 5 s",
        "seconds": seconds,
        "repeats": repeats,
        "median_requests_per_second": {name: round(value, 1) for name, value in medians.items()},
        "median_p50_ms": {
            name: statistics.median(r["p50_ms"] for r in found) for name, found in runs.items()
        },
        "median_p99_ms": {
            name: statistics.median(r["p99_ms"] for r in found) for name, found in runs.items()
        },
        "requests_over_hello": round(medians["requests"] / medians["hello"], 3),
        "rollups_settled_afterwards": settling,
        # The floor: hello plus one insert on the same database server, nothing else.
        "hello_insert_over_hello": round(medians["hello_insert"] / medians["hello"], 3),
        "requests_over_hello_insert": round(medians["requests"] / medians["hello_insert"], 3),
        "runs": runs,
        "command": (
            f".venv/bin/python bench/write_path_bench.py --profile {profile}"
            f" --seconds {seconds} --repeats {repeats}" + (f" --before {before}" if before else "")
        ),
    }
    if before:
        summary["before_revision"] = before
        summary["before_over_hello"] = round(medians["before"] / medians["hello"], 3)
        summary["requests_over_before"] = round(medians["requests"] / medians["before"], 2)
    return summary


def main() -> None:
    """Measure and write bench-results/write_path.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default=os.environ.get("CIVICLOOP_TEST_PROFILE", "test"))
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--before", metavar="REV", help="also serve services/ as of this git revision")
    parser.add_argument("--out", default=str(ROOT / "bench-results" / "write_path.json"))
    args = parser.parse_args()
    summary = measure(args.profile, args.seconds, args.repeats, args.before)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
