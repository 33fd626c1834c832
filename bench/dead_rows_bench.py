"""Dead rows under the loop's write pattern: PostgreSQL's default autovacuum against the project's.

FerretDB rewrites the whole row on every update, and leases and inbox entries are inserted and
deleted all the time. With the same loops driven through the gateway twice — first with the
autovacuum settings put back to PostgreSQL's defaults, then with deploy/local/postgresql-civicloop.conf
— this samples `n_dead_tup` of every table every two seconds and reports the peak and the end, per
phase. Results: bench-results/dead-rows.json and docs/bench/dead-rows.md.

    .venv/bin/python bench/dead_rows_bench.py --profile test-h6 --seconds 150
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import growth_drive as drive  # noqa: E402
from bench.growth_load import log  # noqa: E402

DEFAULTS = {
    "autovacuum_naptime": "60s",
    "autovacuum_vacuum_scale_factor": "0.2",
    "autovacuum_vacuum_threshold": "50",
    "autovacuum_vacuum_insert_scale_factor": "0.2",
    "autovacuum_analyze_scale_factor": "0.1",
    "autovacuum_vacuum_cost_delay": "2ms",
}
RESULTS = ROOT / "bench-results" / "dead-rows.json"
SUMMARY = ROOT / "docs" / "bench" / "dead-rows.md"


def url(settings: dict[str, str], service: str) -> str:
    """The service's PostgreSQL database."""
    return f"postgresql://postgres@127.0.0.1:{settings['PG_PORT']}/ferretdb_{service}"


def set_defaults(settings: dict[str, str], on: bool) -> None:
    """Put autovacuum back to PostgreSQL's defaults (on) or to the project's file (off)."""
    with psycopg.connect(url(settings, "requests"), autocommit=True) as connection:
        for name, value in DEFAULTS.items():
            if on:
                connection.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            else:
                connection.execute(f"ALTER SYSTEM RESET {name}")
        connection.execute("SELECT pg_reload_conf()")


def vacuum(settings: dict[str, str]) -> None:
    """VACUUM every table of the stack's databases."""
    for service in drive.SERVICES:
        with psycopg.connect(url(settings, service), autocommit=True) as connection:
            connection.execute("VACUUM")


def dead_rows(settings: dict[str, str]) -> dict[str, int]:
    """`service.table` → dead rows now (the tables of the stack's databases)."""
    found = {}
    for service in drive.SERVICES:
        with psycopg.connect(url(settings, service), autocommit=True) as connection:
            rows = connection.execute(
                "SELECT relname, n_dead_tup FROM pg_stat_user_tables WHERE schemaname = %s",
                (drive.database_name(settings, service),),
            ).fetchall()
        found.update({f"{service}.{table.rsplit('_', 1)[0]}": dead for table, dead in rows})
    return found


def phase(settings: dict[str, str], seconds: float, threads: int) -> dict[str, Any]:
    """Drive loops for `seconds` and sample the dead rows meanwhile."""
    gw_list = [drive.gateway_of(settings) for _ in range(threads)]
    stop = threading.Event()
    loops = [0]

    def drive_loops(gw: drive.Gateway, number: int) -> None:
        count = 0
        while not stop.is_set():
            try:
                drive.run_loop(gw, f"dead-rows-{number}-{count}")
                loops[0] += 1
            except Exception as error:
                log(f"  loop failed: {str(error)[:120]}")
            count += 1

    workers = [
        threading.Thread(target=drive_loops, args=(gw, n), daemon=True) for n, gw in enumerate(gw_list)
    ]
    for worker in workers:
        worker.start()
    peak: dict[str, int] = {}
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        for table, dead in dead_rows(settings).items():
            peak[table] = max(peak.get(table, 0), dead)
        time.sleep(2)
    stop.set()
    for worker in workers:
        worker.join(timeout=120)
    end = dead_rows(settings)
    busiest = sorted(peak, key=peak.get, reverse=True)[:12]
    return {
        "loops": loops[0],
        "peak_total": sum(peak.values()),
        "end_total": sum(end.values()),
        "peak": {t: peak[t] for t in busiest},
        "end": {t: end.get(t, 0) for t in busiest},
    }


def main() -> None:
    """Both phases on one stack, one after the other."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="test")
    parser.add_argument("--seconds", type=float, default=150)
    parser.add_argument("--threads", type=int, default=3)
    args = parser.parse_args()
    settings = drive.fresh_stack(args.profile)
    drive.register_volunteers(drive.gateway_of(settings), 6)
    results: dict[str, Any] = {"seconds_per_phase": args.seconds, "threads": args.threads}
    try:
        for name, defaults in (("PostgreSQL defaults", True), ("civicloop settings", False)):
            vacuum(settings)  # each phase starts without the other's dead rows
            set_defaults(settings, defaults)
            log(f"{name}: {args.seconds:.0f} s of loops")
            results[name] = phase(settings, args.seconds, args.threads)
            log(f"  {results[name]['loops']} loops, dead rows peak {results[name]['peak_total']:,}")
    finally:
        set_defaults(settings, False)
        drive.stack("ctl", args.profile, "stop", "services:*", "gateway", check=False)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    write_summary(results)


def write_summary(results: dict[str, Any]) -> None:
    """docs/bench/dead-rows.md from the results."""
    before, after = results["PostgreSQL defaults"], results["civicloop settings"]
    tables = sorted(set(before["peak"]) | set(after["peak"]), key=lambda t: -before["peak"].get(t, 0))
    lines = [
        "# Dead rows under the loop's writes: PostgreSQL's autovacuum defaults vs the project's",
        "",
        f"`{' '.join(['.venv/bin/python', *sys.argv])}` — {results['threads']} threads of full loops"
        f" through the gateway for {results['seconds_per_phase']:.0f} s per phase, on one stack, one phase"
        " after the other; `n_dead_tup` sampled every 2 s (bench-results/dead-rows.json).",
        "",
        "| | loops | dead rows, peak (sum of tables) | dead rows at the end |",
        "|---|---:|---:|---:|",
        f"| PostgreSQL defaults | {before['loops']} | {before['peak_total']:,} | {before['end_total']:,} |",
        f"| civicloop settings | {after['loops']} | {after['peak_total']:,} | {after['end_total']:,} |",
        "",
        "| table | peak, defaults | peak, civicloop | end, defaults | end, civicloop |",
        "|---|---:|---:|---:|---:|",
    ]
    for table in tables:
        lines.append(
            f"| {table} | {before['peak'].get(table, '–')} | {after['peak'].get(table, '–')} |"
            f" {before['end'].get(table, '–')} | {after['end'].get(table, '–')} |"
        )
    SUMMARY.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
