"""`make bench-throughput`: the bus, the write path and the loop side by side, one report with a chart.

Runs bench/bus_bench.py, bench/write_path_bench.py and bench/loop_bench.py on the
`bench-throughput` profile (its own broker node, database servers and ports), one after the other,
then writes bench-results/throughput.json and docs/bench/throughput.md with docs/bench/throughput.png.

    .venv/bin/python bench/throughput_bench.py --profile bench-throughput
    .venv/bin/python bench/throughput_bench.py --report-only   # from the JSON files already there
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"
DOCS = ROOT / "docs" / "bench"
PYTHON = sys.executable


def run(step: str, command: list[str]) -> None:
    """One benchmark, its output shown as it comes."""
    print(f"==> {step}: {' '.join(command)}", flush=True)
    subprocess.run(command, cwd=ROOT, check=True)


def measure(args: argparse.Namespace) -> None:
    """Run the three benchmarks on the profile."""
    stack = str(ROOT / "deploy" / "local" / "stack.sh")
    run("infrastructure", [stack, "infra", args.profile])
    run(
        "bus",
        [PYTHON, "bench/bus_bench.py", "--profile", args.profile, "--events", str(args.events),
         "--repeats", str(args.repeats), "--before", args.before,
         *(option for rev in args.bus_before for option in ("--before", rev))],
    )  # fmt: skip
    run(
        "write path",
        [PYTHON, "bench/write_path_bench.py", "--profile", args.profile, "--seconds", str(args.seconds),
         "--repeats", str(args.repeats), "--before", args.before],
    )  # fmt: skip
    run(
        "loop",
        [PYTHON, "bench/loop_bench.py", "--profile", args.profile, "--replicas", "1,2",
         "--residents", str(args.residents), "--seconds", str(args.loop_seconds)],
    )  # fmt: skip


def chart(summary: dict[str, Any], path: Path) -> None:
    """Two panels: the side-by-side ratios against their targets, and loops/s per replica count."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6))
    ratios = summary["ratios"]
    names = list(ratios)
    left.barh(names, [ratios[n]["value"] for n in names], color="#4c72b0", label="measured")
    left.scatter(
        [ratios[n]["target"] for n in names], names, color="#c44e52", marker="|", s=400, label="target"
    )
    # Where the database server alone stops any code keeping the reliability rules (same runs).
    floors = summary.get("floors", {})
    floor_of = {
        "bus: project / pika without confirms": "bus: the database writes alone / pika without confirms",
        "bus: project / Celery acks-late": "bus: the database writes alone / Celery acks-late",
        "write: POST /requests / hello POST": "write: hello + one insert / hello POST",
    }
    shown = [n for n in names if floors.get(floor_of.get(n, ""))]
    left.scatter(
        [floors[floor_of[n]] for n in shown], shown, color="#555555", marker="D", s=40,
        label="floor: the database server alone",
    )  # fmt: skip
    left.set_xscale("log")
    left.set_xlabel("ratio (log scale)")
    left.set_title("side by side, one run")
    left.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, fontsize=8)
    settings = summary["loop"]["settings"]
    right.bar([f"{s['replicas']} replica(s)" for s in settings], [s["loops_per_second"] for s in settings])
    right.set_ylabel("closed loops / s")
    right.set_title("the loop through the gateway")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


def load_average() -> str:
    """The machine's 1-, 5- and 15-minute load averages now (the runs share it with anything else)."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


def ratio(value: float, target: float, command: str) -> dict[str, Any]:
    """A measured ratio with its target and the command that measured it."""
    return {"value": value, "target": target, "command": command}


def report(args: argparse.Namespace) -> None:
    """Combine the three results into throughput.json and docs/bench/throughput.md."""
    bus = json.loads((RESULTS / "bus.json").read_text())
    write = json.loads((RESULTS / "write_path.json").read_text())
    loop = json.loads((RESULTS / "loop.json").read_text())
    summary: dict[str, Any] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": f"make bench-throughput (bench/throughput_bench.py --profile {args.profile})",
        "ratios": {
            "bus: project / pika without confirms": ratio(bus["project_over_ceiling"], 0.6, bus["command"]),
            "bus: project / Celery acks-late": ratio(bus["project_over_celery"], 5.0, bus["command"]),
            "write: POST /requests / hello POST": ratio(write["requests_over_hello"], 0.3, write["command"]),
        },
        # What this broker and database server allow at all, measured in the same runs (no target:
        # a floor above which no code of ours can go while keeping the reliability rules).
        "floors": {
            "bus: confirms alone / pika without confirms": bus.get("confirms_floor_over_ceiling"),
            "bus: the database writes alone / pika without confirms": bus.get("database_floor_over_ceiling"),
            "bus: the database writes alone / Celery acks-late": round(
                bus["median_events_per_second"]["database"] / bus["median_events_per_second"]["celery"], 2
            )
            if "database" in bus["median_events_per_second"]
            else None,
            "write: hello + one insert / hello POST": write.get("hello_insert_over_hello"),
            "write: POST /requests / hello + one insert": write.get("requests_over_hello_insert"),
        },
        "load_average": load_average(),
        "bus": {k: v for k, v in bus.items() if k != "runs"},
        "write_path": {k: v for k, v in write.items() if k != "runs"},
        "loop": loop,
    }
    (RESULTS / "throughput.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    chart(summary, DOCS / "throughput.png")
    (DOCS / "throughput.md").write_text(markdown(summary))
    print(f"wrote {RESULTS / 'throughput.json'} and {DOCS / 'throughput.md'}")


def markdown(summary: dict[str, Any]) -> str:
    """The report page."""
    bus, write, loop = summary["bus"], summary["write_path"], summary["loop"]
    lines = [
        "# Throughput side by side",
        "",
        f"Written by `{summary['command']}` at {summary['measured_at']} on the 2-core machine",
        f"(load average at the end: {summary.get('load_average', '-')}; every pair below ran back to back,",
        "alternating, repeated; medians). Numbers from bench-results/throughput.json.",
        "",
        "![ratios and replica scaling](throughput.png)",
        "",
        "## The three ratios",
        "",
        "| ratio | measured | target | command |",
        "|---|---|---|---|",
    ]
    for name, ratio in summary["ratios"].items():
        lines.append(f"| {name} | {ratio['value']} | ≥ {ratio['target']} | `{ratio['command']}` |")
    lines += [
        "",
        "What the broker and the database server allow at all, measured in the same runs (the floors:",
        "no code keeping the reliability rules can beat them here):",
        "",
        "| floor | measured |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in summary.get("floors", {}).items()),
    ]
    medians = bus["median_events_per_second"]
    lines += [
        "",
        f"## The bus ({bus['events']} events a pass, {bus['repeats']} passes each)",
        "",
        "| path | events/s (median) |",
        "|---|---|",
        f"| pika publisher, no confirms (ceiling; publish only) | {medians.get('pika')} |",
        f"| Celery 5, acks-late, prefork on both cores | {medians.get('celery')} |",
        f"| project: outbox → relay (confirms) → quorum queue → consumer + inbox | {medians['project']} |",
        f"| floor: the project's publisher alone, batches of 200 confirmed | {medians.get('confirms')} |",
        f"| floor: the database writes alone (see below), no broker | {medians.get('database')} |",
        f"| project before this branch ({bus.get('before_revision', '-')}) | {medians.get('before')} |",
        *(
            f"| project at {rev} | {medians.get(f'before@{rev}')} |"
            for rev in bus.get("project_over_revisions", {})
        ),
        "",
        f"Relay alone (outbox → confirmed): {bus.get('median_relay_events_per_second')} events/s.",
        f"After / before this branch: {bus.get('project_over_before')}×."
        + "".join(
            f" After / {rev}: {value}×." for rev, value in bus.get("project_over_revisions", {}).items()
        ),
        "",
        "Where the time goes (ADR 0063, ADR 0064): publishing with confirms is not the limit (the",
        "project's publisher, confirming batches of 200, ran at "
        + f"{summary['floors'].get('bus: confirms alone / pika without confirms')}× the ceiling).",
        "The database writes are the limit:",
        "each event leaves its aggregate's outbox by one update of that document, and FerretDB 1.24 runs",
        "each update as a SQL transaction of its own, an `$in` on `_id` as a whole-table scan, and hung",
        "on multi-statement updates. Those writes alone (one outbox update per event, 4 in flight, and",
        "one inbox insert per 16 events), with no broker, stay below the ratio's target.",
        "",
        "## The write path",
        "",
        f"{write['tool']}; gunicorn {write['gunicorn']};",
        f"{write['seconds']} s a run, {write['repeats']} runs each.",
        "",
        "| target | requests/s (median) | p50 ms | p99 ms |",
        "|---|---|---|---|",
    ]
    rates, p50, p99 = write["median_requests_per_second"], write["median_p50_ms"], write["median_p99_ms"]
    for name in rates:
        label = {
            "hello": "hello-JSON POST",
            "requests": "POST /api/v1/requests",
            "before": "the same, before",
            "hello_insert": "hello + one insert on the same database server (floor)",
        }
        lines.append(f"| {label.get(name, name)} | {rates[name]} | {p50[name]} | {p99[name]} |")
    lines += [
        "",
        f"After / before: {write.get('requests_over_before')}×.",
        "",
        "The new orders' rollups (the county report's and the open-requests figures), which the POST",
        "leaves to the worker's sweep (ADR 0064), settled afterwards the way the sweep does: "
        + (
            f"{settled['settled']} at {settled['settled_per_second']} a second."
            if (settled := write.get("rollups_settled_afterwards"))
            else "not measured."
        ),
        "",
        "## The loop under load, 1 and 2 replicas",
        "",
        f"`{loop['command']}`",
        "",
        "| replicas | loops/s | failed | order p50/p99 s | offer | accept | closed | loop |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for setting in loop["settings"]:
        stages = setting["stages"]

        def cell(stage: str, stages: dict[str, Any] = stages) -> str:
            found = stages.get(stage)
            return f"{found['p50_s']} / {found['p99_s']}" if found else "-"

        lines.append(
            f"| {setting['replicas']} | {setting['loops_per_second']} | {setting['failed']} "
            f"| {cell('order')} "
            f"| {cell('offer')} | {cell('accept')} | {cell('closed')} | {cell('loop')} |"
        )
    lines += [
        "",
        f"2 replicas / 1: {loop.get('two_over_one')}×.",
        "",
        "Cores kept busy, by kind of process:",
        "",
    ]
    for setting in loop["settings"]:
        busy = ", ".join(f"{kind} {value}" for kind, value in setting["cores_busy"].items() if value >= 0.01)
        lines.append(f"- {setting['replicas']} replica(s), of {setting['cores']} cores: {busy}")
    lines += ["", "Messages left in each service's queue when the residents stopped:", ""]
    for setting in loop["settings"]:
        waiting = ", ".join(f"{name} {count}" for name, count in setting.get("queued_at_end", {}).items())
        lines.append(f"- {setting['replicas']} replica(s): {waiting}")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Measure (unless --report-only), then write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="bench-throughput")
    parser.add_argument("--before", default="fad59c3", help="git revision the before figures run")
    parser.add_argument(
        "--bus-before",
        action="append",
        default=[],
        help="further revisions the bus runs side by side",
    )
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--residents", type=int, default=12)
    parser.add_argument("--loop-seconds", type=int, default=60)
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    if not args.report_only:
        measure(args)
    report(args)


if __name__ == "__main__":
    main()
