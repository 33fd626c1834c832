"""`make bench-growth`: is the platform as fast with years of history stored as on its first day?

On a fresh stack of a profile (default `test`), a few real loops give the templates of every stored
document (bench/growth_load.py); the county's 3,000 volunteers are stored; then, size after size
(1k, 10k, 100k, 1M requests stored, with their tasks, dispatch jobs, ratings, hours and inbox
entries), the harness measures through the gateway:

- full loops: order → offer → accept → check-in → check-out → rating → closed (each step and the loop);
- `GET /api/v1/requests/{id}` of a stored request, a resident's list (a stored one, and one always
  holding a full page), the dispatchers' queue,
  `GET /api/v1/stats/rollout`;
- each database server's CPU while the stack is idle (its FerretDB process and the PostgreSQL
  processes serving its database; what the workers' polling and periodic jobs cost).

Every measurement is bounded in time; a call that times out counts as such. Results go to
bench-results/growth.json and docs/bench/growth.md with a chart (docs/bench/growth.png).

    .venv/bin/python bench/growth_bench.py --profile test-h6 --sizes 1000,10000,100000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import growth_drive as drive  # noqa: E402
from bench import growth_load as load  # noqa: E402

RESULTS = ROOT / "bench-results" / "growth.json"
SUMMARY = ROOT / "docs" / "bench" / "growth.md"
CHART = ROOT / "docs" / "bench" / "growth.png"
# The default --call-timeout, where the chart puts operations whose every call timed out.
TIMEOUT_MS = 60_000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
log = load.log


def quantiles(samples: list[float]) -> dict[str, float | int | None]:
    """p50 and p99 in milliseconds, and how many samples."""
    if not samples:
        return {"n": 0, "p50_ms": None, "p99_ms": None}
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(p99 * 1000, 1),
    }


def timed_calls(name: str, call: Callable[[], Any], count: int, budget: float) -> dict[str, Any]:
    """Up to `count` calls within `budget` seconds; their latencies and failures."""
    samples, failures = [], 0
    started = time.monotonic()
    for _ in range(count):
        if time.monotonic() - started > budget:
            break
        begun = time.monotonic()
        try:
            response = call()
            ok = response.ok
        except Exception:
            ok = False
        if ok:
            samples.append(time.monotonic() - begun)
        else:
            failures += 1
    figures = {**quantiles(samples), "failed": failures}
    log(f"    {name}: {figures}")
    return figures


def cpu_ticks(settings: dict[str, str]) -> dict[str, int]:
    """CPU ticks so far of each service's FerretDB plus the PostgreSQL processes serving its database."""
    postmaster = (ROOT / ".run" / settings["CIVICLOOP_PROFILE"] / "postgres" / "postmaster.pid").read_text()
    postmaster_pid = postmaster.split()[0]
    listeners = {
        f"--listen-addr=127.0.0.1:{port} ": service for service, port in drive.db_ports(settings).items()
    }
    ticks: dict[str, int] = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used = int(stat[11]) + int(stat[12])
        key = next((service for flag, service in listeners.items() if flag in command), None)
        if key is None and stat[1] == postmaster_pid:  # a process of this profile's cluster
            key = next((s for s in drive.SERVICES if f" ferretdb_{s} " in command), "postgres (shared)")
        if key is not None:
            ticks[key] = ticks.get(key, 0) + used
    return ticks


def idle_cpu(settings: dict[str, str], seconds: float) -> dict[str, float]:
    """Cores used by each database server over `seconds` with no HTTP traffic."""
    before, started = cpu_ticks(settings), time.monotonic()
    time.sleep(seconds)
    after, elapsed = cpu_ticks(settings), time.monotonic() - started
    cores = {key: round((after.get(key, 0) - before.get(key, 0)) / CLOCK_TICKS / elapsed, 3) for key in after}
    log(f"    idle CPU (cores): {cores}")
    return cores


def analyze(settings: dict[str, str]) -> None:
    """VACUUM ANALYZE every database, as autovacuum would have over the months the history took."""
    for service in drive.SERVICES:
        subprocess.run(
            [
                "/bin/sh",
                "-c",
                f'"$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/vacuumdb" -q -z -h 127.0.0.1 '
                f"-p {settings['PG_PORT']} -U postgres ferretdb_{service}",
            ],
            check=True,
        )


def restart_services(profile_name: str, settings: dict[str, str]) -> None:
    """Restart the services, so read-models and caches start from what is stored now."""
    drive.stack("ctl", profile_name, "restart", "services:*")
    gw = drive.gateway_of(settings, timeout=10)
    for service in drive.SERVICES:
        port = settings[f"{service.upper()}_WEB_PORT"]
        drive.wait_until(
            lambda p=port: _ready(gw, f"http://127.0.0.1:{p}/readyz"),
            180,
            f"{service} ready after restart",
            0.5,
        )


def _ready(gw: drive.Gateway, url: str) -> bool:
    try:
        return gw.session.get(url, timeout=10).ok
    except Exception:
        return False


def measure(
    profile_name: str, settings: dict[str, str], county: load.County, args: argparse.Namespace
) -> dict[str, Any]:
    """Every figure at the current size."""
    gw = drive.gateway_of(settings, timeout=args.call_timeout)
    admin = gw.who("admin", "bench-admin")
    figures: dict[str, Any] = {"idle_cpu_cores": idle_cpu(settings, args.idle_seconds)}
    rng = random.Random(7)
    samples = county.samples
    figures["get_request"] = timed_calls(
        "GET one request",
        lambda: (
            (s := rng.choice(samples))
            and gw.call("GET", f"/api/v1/requests/{s[0]}", gw.who("resident", s[1]))
        ),
        args.reads,
        args.budget,
    )
    figures["resident_list"] = timed_calls(
        "a resident's list",
        lambda: gw.call("GET", "/api/v1/requests", gw.who("resident", rng.choice(samples)[1])),
        args.reads,
        args.budget,
    )
    figures["regular_list"] = timed_calls(
        "a resident's list of a full page",
        lambda: gw.call("GET", "/api/v1/requests", gw.who("resident", load.REGULAR)),
        args.reads,
        args.budget,
    )
    figures["dispatch_queue"] = timed_calls(
        "the dispatchers' queue",
        lambda: gw.call("GET", "/api/v1/dispatch/queue", admin),
        args.reads,
        args.budget,
    )
    figures["rollout_stats"] = timed_calls(
        "rollout stats",
        lambda: gw.call("GET", "/api/v1/stats/rollout", admin),
        max(3, args.reads // 5),
        args.budget,
    )
    steps: dict[str, list[float]] = {}
    failures: list[str] = []
    started = time.monotonic()
    for number in range(args.loops):
        if time.monotonic() - started > args.loop_budget:
            break
        try:
            loop = drive.run_loop(gw, f"bench-resident-{number}", patience=args.call_timeout)
        except (drive.Slow, Exception) as error:
            failures.append(str(error)[:200])
            continue
        for step, seconds in loop["seconds"].items():
            steps.setdefault(step, []).append(seconds)
    figures["loops"] = {step: quantiles(values) for step, values in steps.items()}
    figures["loops_failed"] = len(failures)
    figures["loop_failures"] = failures[:5]
    log(f"    loops: {figures['loops'].get('loop')} failed={len(failures)}")
    return figures


def main() -> None:
    """Parse arguments, run every size, write the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default=os.environ.get("CIVICLOOP_TEST_PROFILE", "test"))
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--label", default="", help="names this run in the results (e.g. before, after)")
    parser.add_argument("--loops", type=int, default=20)
    parser.add_argument("--loop-budget", type=float, default=300, help="seconds of loops per size at most")
    parser.add_argument("--reads", type=int, default=40)
    parser.add_argument("--budget", type=float, default=90, help="seconds per read measurement at most")
    parser.add_argument("--call-timeout", type=float, default=60)
    parser.add_argument("--idle-seconds", type=float, default=20)
    parser.add_argument("--keep", action="store_true", help="leave the stack running at the end")
    parser.add_argument(
        "--summary-only", action="store_true", help="only rewrite docs/bench from the results"
    )
    args = parser.parse_args()
    if args.summary_only:
        write_summary(json.loads(RESULTS.read_text()))
        return
    sizes = [int(size) for size in args.sizes.split(",")]

    log(f"fresh stack '{args.profile}'")
    settings = drive.fresh_stack(args.profile)
    gw = drive.gateway_of(settings)
    databases = {
        service: client[drive.database_name(settings, service)]
        for service, client in load.clients(drive.db_ports(settings)).items()
    }
    sinks = load.copy_sinks(
        settings["PG_PORT"], {service: drive.database_name(settings, service) for service in drive.SERVICES}
    )
    log("template loops through the gateway")
    volunteers = drive.register_volunteers(gw, 4)
    loops = [drive.run_loop(gw, f"template-resident-{n}", decline_first=n % 2 == 1) for n in range(4)]
    time.sleep(3)  # the last events (hours, rating on the task) land
    templates = load.capture(databases, [loop["request_id"] for loop in loops])
    rng = random.Random(2026)
    county = load.County()
    load.load_volunteers(databases, load.capture_volunteer(databases, volunteers[0]), county, rng)
    now = datetime.now(UTC)
    run: dict[str, Any] = {
        "label": args.label,
        "started_at": now.isoformat(timespec="seconds"),
        "profile": args.profile,
        "command": " ".join(sys.argv),
        "sizes": {},
    }
    try:
        for size in sizes:
            log(f"size {size:,}: loading (services stopped: their scans of history would slow it down)")
            drive.stack("ctl", args.profile, "stop", "services:*")
            loaded = load.grow(databases, templates, county, size, now, rng, sinks=sinks)
            log(f"  stored {loaded['documents']:,} documents in {loaded['seconds']} s")
            analyze(settings)
            restart_services(args.profile, settings)
            time.sleep(5)
            log(f"size {size:,}: measuring")
            figures = measure(args.profile, settings, county, args)
            figures["machine_load"] = round(os.getloadavg()[0], 2)
            run["sizes"][str(size)] = {"load": loaded, **figures, "stored": stored_counts(settings)}
            save(run)
    finally:
        save(run)
        for sink in sinks.values():
            sink.close()
        if not args.keep:
            drive.stack("ctl", args.profile, "stop", "services:*", "gateway", check=False)
    write_summary(json.loads(RESULTS.read_text()))
    log(f"results in {RESULTS.relative_to(ROOT)}, {SUMMARY.relative_to(ROOT)} and {CHART.relative_to(ROOT)}")


def stored_counts(settings: dict[str, str]) -> dict[str, int]:
    """Documents per collection, as PostgreSQL estimates them (FerretDB would read every row to count)."""
    import psycopg

    from services.common import pgindexes

    counts = {}
    for service in drive.SERVICES:
        url = load.postgres_url(settings["PG_PORT"], service)
        schema = drive.database_name(settings, service)
        tables = pgindexes.table_names(url, schema)
        with psycopg.connect(url, autocommit=True) as connection:
            rows = dict(
                connection.execute(
                    "SELECT c.relname, c.reltuples::bigint FROM pg_class c"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s",
                    (schema,),
                ).fetchall()
            )
        counts.update(
            {f"{service}.{name}": max(0, rows.get(table, 0)) for name, table in sorted(tables.items())}
        )
    return counts


def save(run: dict[str, Any]) -> None:
    """Keep this run in bench-results/growth.json beside earlier ones (by label)."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    runs = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    runs[run["label"] or run["started_at"]] = run
    RESULTS.write_text(json.dumps(runs, ensure_ascii=False, indent=1))


OPERATIONS = (
    ("loop", "full loop (order → closed)"),
    ("offer", "order → offer in the volunteer's inbox"),
    ("get_request", "GET one request"),
    ("resident_list", "a resident's list (a stored one: ~1 item at 1k, a full page of 20 at 1M)"),
    ("regular_list", "a resident's list, always a full page of 20"),
    ("dispatch_queue", "dispatchers' queue"),
    ("rollout_stats", "rollout stats"),
)


def operation(figures: dict[str, Any], key: str) -> dict[str, Any]:
    """The figures of one operation at one size (loop steps live under `loops`)."""
    return figures.get("loops", {}).get(key, {}) if key in ("loop", "offer") else figures.get(key, {})


def write_summary(runs: dict[str, Any]) -> None:
    """docs/bench/growth.md (every run side by side, newest first) and the chart of the newest."""
    lines = [
        "# Growth: the same operations with 1k → 1M requests stored",
        "",
        "`make bench-growth` (bench/growth_bench.py; raw figures in bench-results/growth.json). Each size",
        "adds older history (bench/growth_load.py); p50 / p99 in ms through the gateway, `n` samples;",
        "idle CPU in cores of each database server (its FerretDB and the PostgreSQL processes serving it).",
        "",
    ]
    for label, run in sorted(runs.items(), key=lambda item: item[1]["started_at"], reverse=True):
        if label == "smoke":
            continue
        sizes = list(run["sizes"])
        lines += [f"## {label or run['started_at']} ({run['started_at']}, profile `{run['profile']}`)", ""]
        lines += [f"`{run['command']}`", ""]
        lines += ["| operation | " + " | ".join(f"{int(size):,} stored" for size in sizes) + " |"]
        lines += ["|---|" + "---:|" * len(sizes)]
        for key, name in OPERATIONS:
            cells = []
            for size in sizes:
                figures = operation(run["sizes"][size], key)
                failed = figures.get("failed") or (
                    run["sizes"][size].get("loops_failed") if key == "loop" else 0
                )
                p50, p99 = figures.get("p50_ms") or "–", figures.get("p99_ms") or "–"
                cell = f"{p50} / {p99} (n={figures.get('n', 0)})"
                cells.append(cell + (f", {failed} failed" if failed else ""))
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        for server in (*drive.SERVICES, "postgres (shared)"):
            cells = [str(run["sizes"][size]["idle_cpu_cores"].get(server, "–")) for size in sizes]
            lines.append(f"| idle CPU, {server} | " + " | ".join(cells) + " |")
        loads = [str(run["sizes"][size].get("load", {}).get("seconds", "–")) for size in sizes]
        lines.append("| seconds to store this size's history | " + " | ".join(loads) + " |")
        averages = [str(run["sizes"][size].get("machine_load", "–")) for size in sizes]
        lines.append("| machine load average (1 min) when measured | " + " | ".join(averages) + " |")
        lines.append("")
    SUMMARY.write_text("\n".join(lines) + "\n")
    newest = max((run for label, run in runs.items() if label != "smoke"), key=lambda run: run["started_at"])
    chart(newest)


def chart(run: dict[str, Any]) -> None:
    """p99 of each operation against the stored size, log-log."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [int(size) for size in run["sizes"]]
    figure, axes = plt.subplots(figsize=(8, 5))
    for key, name in OPERATIONS:
        values = [operation(run["sizes"][str(size)], key).get("p99_ms") for size in sizes]
        points = [(size, value) for size, value in zip(sizes, values, strict=True) if value]
        if points:
            (line,) = axes.plot(*zip(*points, strict=True), marker="o", label=name)
            # Every call timed out: drawn at the timeout, as a cross.
            failed = [
                size
                for size, value in zip(sizes, values, strict=True)
                if not value
                and (
                    operation(run["sizes"][str(size)], key).get("failed")
                    or (key == "loop" and run["sizes"][str(size)].get("loops_failed"))
                    or (key == "offer" and run["sizes"][str(size)].get("loops_failed"))
                )
            ]
            if failed:
                axes.plot(
                    failed, [TIMEOUT_MS] * len(failed), marker="x", markersize=10, color=line.get_color()
                )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("requests stored")
    axes.set_ylabel("p99, ms")
    axes.set_title(
        f"p99 through the gateway as history grows ({run['label'] or run['started_at']}; × timed out)"
    )
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(CHART, dpi=110)
    plt.close(figure)


if __name__ == "__main__":
    main()
