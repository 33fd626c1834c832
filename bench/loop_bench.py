"""The loop under load: many residents and volunteers through the gateway, with 1 and 2 replicas.

For each replica count, the `bench-throughput` profile's stack starts fresh (CIVICLOOP_REPLICAS=N:
N web processes and N workers per service, the workers competing for each service's queue, the
gateway spreading calls over the web processes), volunteers register, and `--residents` people
each run full loops (order → offer → accept → check-in → check-out → rating → closed, bench/
growth_drive.py) back to back for `--seconds`. Reported: loops/s, p50/p99 of each stage, and the
CPU seconds each kind of process used (to say where the CPU saturates).

    .venv/bin/python bench/loop_bench.py --profile bench-throughput --replicas 1,2 --seconds 60
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import growth_drive as drive  # noqa: E402

# The stages the issue names, from the steps run_loop times.
STAGES = {
    "order": ("order",),
    "offer": ("offer",),
    "accept": ("accept",),
    "closed": ("check_in", "check_out", "rating", "closed"),
    "loop": ("loop",),
}
TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    """The `share` percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def cpu_by_kind(profile: str) -> dict[str, float]:
    """CPU seconds so far of the profile's processes (and this driver's), by kind of process."""
    supervisor = int((ROOT / ".run" / profile / "supervisord.pid").read_text().strip())
    parents: dict[int, int] = {}
    info: dict[int, tuple[str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
        info[int(entry.name)] = (args, (int(fields[11]) + int(fields[12])) / TICKS)
    totals: dict[str, float] = defaultdict(float)
    for pid, (args, seconds) in info.items():
        chain = [pid]
        while chain[-1] in parents and parents[chain[-1]] > 1:
            chain.append(parents[chain[-1]])
        if pid == os.getpid():
            totals["load driver"] += seconds
        elif "beam.smp" in args and f"civicloop-{profile}" in args:
            totals["rabbitmq"] += seconds
        elif supervisor in chain:
            totals[_kind([info[p][0] for p in chain if p in info])] += seconds
    return dict(totals)


def _kind(chain: list[str]) -> str:
    # The first process up the chain that says what it is (a gunicorn worker's parent is the web's).
    for text in chain:
        if found := re.search(r"-m services\.(\w+) (web|worker)", text):
            return f"{found.group(1)}-{found.group(2)}"
        if text.startswith("postgres") or "/bin/postgres" in text:
            return "postgresql"
        if "ferretdb" in text:
            return "ferretdb"
        if "nginx" in text:
            return "gateway"
    return "other"


def queue_depths(settings: dict[str, str]) -> dict[str, int]:
    """Messages waiting in each service's queue (a stage that does not keep pace leaves some)."""
    import amqp

    from services.common.publisher import amqp_params
    from services.common.topology import main_queue_name

    connection = amqp.Connection(**amqp_params(settings["CIVICLOOP_AMQP_URL"]))
    connection.connect()
    try:
        channel = connection.channel()
        return {
            service: channel.queue_declare(main_queue_name(service), passive=True).message_count
            for service in drive.SERVICES
        }
    finally:
        connection.close()


def run_residents(
    gw: drive.Gateway, residents: int, seconds: float
) -> tuple[list[dict[str, Any]], int, float]:
    """`residents` people looping until `seconds` passed; the finished loops, the failures, the time."""
    finished: list[dict[str, Any]] = []
    failures = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def person(number: int) -> None:
        nonlocal failures
        session = drive.Gateway(gw.base_url, gw.secret, gw.timeout)
        while time.monotonic() < deadline:
            try:
                done = drive.run_loop(session, f"bench-resident-{number}", patience=120, poll=0.2)
            except Exception as error:  # a slow or failed loop counts as such; the others go on
                with lock:
                    failures += 1
                print(f"  loop failed: {str(error)[:160]}", flush=True)
                continue
            with lock:
                finished.append(done)

    started = time.monotonic()
    threads = [threading.Thread(target=person, args=(n,), daemon=True) for n in range(residents)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        time.sleep(5)
        print(
            f"  {time.monotonic() - started:5.0f}s: {len(finished)} loops closed, {failures} failed",
            flush=True,
        )
    return finished, failures, time.monotonic() - started


def one_setting(
    profile: str, replicas: int, residents: int, volunteers: int, seconds: float
) -> dict[str, Any]:
    """A fresh stack with `replicas` of every process, loaded by `residents` people."""
    os.environ["CIVICLOOP_REPLICAS"] = str(replicas)
    print(f"== {replicas} replica(s): fresh stack", flush=True)
    drive.stack("down", profile, check=False)
    try:
        settings = drive.fresh_stack(profile)
    except subprocess.CalledProcessError:
        # Its ports lie in the kernel's ephemeral range: a client socket elsewhere on the machine
        # can hold one for a moment ("Address already in use"). Once more, from the start.
        print("  the stack did not come up; once more", flush=True)
        drive.stack("down", profile, check=False)
        settings = drive.fresh_stack(profile)
    gw = drive.gateway_of(settings)
    drive.register_volunteers(gw, volunteers)
    # One loop first, so every process has its imports and connections before the clock runs.
    drive.run_loop(gw, "bench-warm-up", patience=120, poll=0.2)
    cpu_before, wall_before = cpu_by_kind(profile), time.monotonic()
    finished, failures, elapsed = run_residents(gw, residents, seconds)
    wall = time.monotonic() - wall_before
    cpu_after = cpu_by_kind(profile)
    waiting = queue_depths(settings)
    cpu = {kind: round((cpu_after.get(kind, 0) - cpu_before.get(kind, 0)) / wall, 3) for kind in cpu_after}
    stages = {}
    for stage, steps in STAGES.items():
        values = [sum(loop["seconds"].get(step, 0.0) for step in steps) for loop in finished]
        if values:
            stages[stage] = {
                "p50_s": round(statistics.median(values), 3),
                "p99_s": round(percentile(values, 0.99), 3),
            }
    return {
        "replicas": replicas,
        "residents": residents,
        "volunteers": volunteers,
        "seconds": round(elapsed, 1),
        "loops": len(finished),
        "failed": failures,
        "loops_per_second": round(len(finished) / elapsed, 3),
        "stages": stages,
        # Each service's queue when the residents stopped: near zero when every stage kept pace.
        "queued_at_end": waiting,
        # Cores each kind of process kept busy on average (1.0 = one core); the machine has os.cpu_count().
        "cores_busy": dict(sorted(cpu.items(), key=lambda item: -item[1])),
        "cores": os.cpu_count(),
    }


def main() -> None:
    """Measure each replica count and write bench-results/loop.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="bench-throughput")
    parser.add_argument("--replicas", default="1,2")
    parser.add_argument("--residents", type=int, default=12)
    parser.add_argument("--volunteers", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--keep", action="store_true", help="leave the last stack running")
    parser.add_argument("--out", default=str(ROOT / "bench-results" / "loop.json"))
    args = parser.parse_args()
    results = []
    try:
        for replicas in [int(n) for n in args.replicas.split(",")]:
            result = one_setting(args.profile, replicas, args.residents, args.volunteers, args.seconds)
            results.append(result)
            print(json.dumps(result, ensure_ascii=False), flush=True)
    finally:
        if not args.keep:
            drive.stack("down", args.profile, check=False)
    summary: dict[str, Any] = {
        "settings": results,
        "command": (
            f".venv/bin/python bench/loop_bench.py --profile {args.profile} --replicas {args.replicas}"
            f" --residents {args.residents} --volunteers {args.volunteers} --seconds {args.seconds:g}"
        ),
    }
    rates = {r["replicas"]: r["loops_per_second"] for r in results}
    if 1 in rates and 2 in rates and rates[1]:
        summary["two_over_one"] = round(rates[2] / rates[1], 2)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "settings"}, ensure_ascii=False))


if __name__ == "__main__":
    main()
