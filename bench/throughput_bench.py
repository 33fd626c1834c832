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

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    ratios = summary["ratios"]
    names = list(ratios)
    left.barh(names, [ratios[n]["value"] for n in names], color="#4c72b0", label="measured")
    left.scatter(
        [ratios[n]["target"] for n in names], names, color="#c44e52", marker="|", s=400, label="target"
    )
    left.set_xscale("log")
    left.set_xlabel("ratio (log scale)")
    left.set_title("side by side, one run")
    left.legend(loc="lower right")
    settings = summary["loop"]["settings"]
    right.bar([f"{s['replicas']} replica(s)" for s in settings], [s["loops_per_second"] for s in settings])
    right.set_ylabel("closed loops / s")
    right.set_title("the loop through the gateway")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


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
        f"Written by `{summary['command']}` at {summary['measured_at']} on the 2-core shared machine",
        "(other engineers' suites running at the same time: every pair below ran back to back,",
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
        "Where the project's time goes (cProfile and a pymongo command listener, 1,000 events, ADR 0063):",
        "the relay's one conditional update per published document and the consumer's inbox lookup and",
        "insert per event, each a round trip and a SQL transaction in FerretDB; publishing a batch with",
        "its confirms is a small share. FerretDB 1.24 runs an `$in` on `_id` as a whole-table scan and",
        "hung on multi-statement updates, so these stay one id per round trip, now in flight side by side",
        "(the relay's updates on 4 threads; the consumer's lookups and records per batch of deliveries).",
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
        }
        lines.append(f"| {label.get(name, name)} | {rates[name]} | {p50[name]} | {p99[name]} |")
    lines += [
        "",
        f"After / before: {write.get('requests_over_before')}×.",
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
    parser.add_argument("--before", default="f493fb3", help="git revision the before figures run")
    parser.add_argument(
        "--bus-before",
        action="append",
        help="further revisions the bus runs side by side (default: b84c693, before its batches)",
    )
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--residents", type=int, default=12)
    parser.add_argument("--loop-seconds", type=int, default=60)
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    args.bus_before = args.bus_before or ["b84c693"]
    if not args.report_only:
        measure(args)
    report(args)


if __name__ == "__main__":
    main()
