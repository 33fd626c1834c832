"""Memory and CPU of each process of a running local stack, idle and under loops through the gateway.

The figures size the containers of deploy/k8s (docs/capacity-k8s-figures.md). Start a stack first
(`deploy/local/stack.sh up PROFILE`, then `civicloop demo load --profile PROFILE`), then:

    .venv/bin/python bench/footprint.py --profile test-h5 --loops 300 --concurrency 8

Per process it reports RSS and PSS (the web process counts its gunicorn master and workers: PSS
charges the pages they share after the fork once, as a container's memory limit does), and CPU in
cores: the mean over the load phase and the busiest 5-second window.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import requests

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("requests", "dispatch", "volunteers", "ratings")
TICKS = os.sysconf("SC_CLK_TCK")
TOWNSHIP = "城西街道"


def read_profile(name: str) -> dict[str, str]:
    """KEY=VALUE lines of deploy/local/profiles/<name>.env."""
    pairs = {}
    for line in (ROOT / "deploy" / "local" / "profiles" / f"{name}.env").read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            pairs[key.strip()] = value.strip()
    return pairs


# --- processes -------------------------------------------------------------------------------------
def _cmdlines() -> dict[int, list[str]]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().decode().split("\0")
            except OSError:
                continue
    return found


def _parent(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def process_groups(profile: dict[str, str]) -> dict[str, list[int]]:
    """Name → the pids of that process and its children (gunicorn workers), for this profile's ports."""
    cmdlines = _cmdlines()
    wanted: dict[str, tuple[str, ...]] = {}
    for service in SERVICES:
        upper = service.upper()
        wanted[f"{service}-web"] = (f"services.{service}", "web", profile[f"{upper}_WEB_PORT"])
        wanted[f"{service}-worker"] = (
            f"services.{service}",
            "worker",
            profile[f"{upper}_WORKER_METRICS_PORT"],
        )
    run_dir = f".run/{profile['CIVICLOOP_PROFILE']}/nginx"
    groups: dict[str, list[int]] = {}
    for name, words in wanted.items():
        roots = [pid for pid, argv in cmdlines.items() if all(word in argv for word in words)]
        roots = [pid for pid in roots if _parent(pid) not in roots]
        if len(roots) != 1:
            raise SystemExit(f"{name}: expected one process, found {roots}")
        groups[name] = roots
    groups["gateway"] = [
        pid
        for pid, argv in cmdlines.items()
        # nginx rewrites its title into one string: "nginx: master process /usr/sbin/nginx -c ..."
        if argv and argv[0].startswith("nginx: master") and run_dir in " ".join(argv)
    ][:1]
    # Not deployed as such (Kubernetes runs MongoDB), but they show where the local loop's time goes.
    for service in SERVICES:
        listen = f"--listen-addr=127.0.0.1:{profile[f'{service.upper()}_DB_PORT']}"
        groups[f"ferretdb-{service}"] = [pid for pid, argv in cmdlines.items() if listen in argv][:1]
    groups["postgres"] = [
        pid
        for pid, argv in cmdlines.items()
        if argv and argv[0].endswith("/postgres") and profile["PG_PORT"] in argv
    ][:1]
    parents = {}
    for pid in cmdlines:
        try:
            parents[pid] = _parent(pid)
        except OSError:
            continue
    for pids in groups.values():
        pids.extend(pid for pid, parent in parents.items() if parent in pids)
    return groups


def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _pss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


@dataclass
class Usage:
    """What the sampler saw of one process group."""

    rss_mib: list[float] = field(default_factory=list)
    pss_mib: list[float] = field(default_factory=list)
    cpu: list[tuple[float, float]] = field(default_factory=list)  # (monotonic time, cpu seconds)


class Sampler:
    """Samples every group twice a second until stopped."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self.groups = groups
        self.usage = {name: Usage() for name in groups}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            now = time.monotonic()
            for name, pids in self.groups.items():
                try:
                    rss = sum(_status_kib(pid, "VmRSS") for pid in pids)
                    pss = sum(_pss_kib(pid) for pid in pids)
                    ticks = sum(_cpu_ticks(pid) for pid in pids)
                except OSError:
                    continue  # a gunicorn worker restarted between the listing and the read
                usage = self.usage[name]
                usage.rss_mib.append(rss / 1024)
                usage.pss_mib.append(pss / 1024)
                usage.cpu.append((now, ticks / TICKS))
            self.stop.wait(0.5)

    def __enter__(self) -> Sampler:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.thread.join()


def busiest_window(cpu: list[tuple[float, float]], seconds: float = 5.0) -> float:
    """The highest mean CPU (cores) over any `seconds`-long stretch of samples."""
    best = 0.0
    start = 0
    for end in range(len(cpu)):
        while cpu[end][0] - cpu[start][0] > seconds:
            start += 1
        span = cpu[end][0] - cpu[start][0]
        if span >= seconds * 0.8:
            best = max(best, (cpu[end][1] - cpu[start][1]) / span)
    return best


# --- loops -----------------------------------------------------------------------------------------
class Loops:
    """Residents order, dispatch offers, volunteers serve, residents rate; all through the gateway."""

    def __init__(self, gateway: str, secret: str) -> None:
        self.gateway = gateway
        self.secret = secret
        self.session = requests.Session()
        self.session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=64))
        self.admin = self.auth("admin", "footprint-admin")
        self.closed = 0
        self.failed: list[str] = []
        self.lock = threading.Lock()

    def auth(self, role: str, sub: str) -> dict[str, str]:
        now = datetime.now(UTC)
        claims = {"sub": sub, "role": role, "iat": now, "exp": now + timedelta(hours=2), "iss": "civicloop"}
        return {"Authorization": f"Bearer {jwt.encode(claims, self.secret, algorithm='HS256')}"}

    def call(self, method: str, path: str, who: dict[str, str], body: Any = None) -> requests.Response:
        return self.session.request(method, self.gateway + path, headers=who, json=body, timeout=30)

    def until(self, check: Any, what: str, timeout: float = 60.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            time.sleep(0.2)
        raise TimeoutError(what)

    def volunteers(self, count: int) -> None:
        """Volunteers of our own in one township, so that every order finds someone."""
        ids = []
        for number in range(count):
            body = {
                "name": f"测量志愿者{number}",
                "phone": f"1370000{number:04d}",
                "township": TOWNSHIP,
                "skills": ["elder_care"],
                "capacity": 3,
            }
            response = self.call("POST", "/api/v1/volunteers", self.admin, body)
            response.raise_for_status()
            ids.append(response.json()["id"])
        for volunteer_id in ids:
            self.until(
                lambda v=volunteer_id: self.call("GET", f"/api/v1/dispatch/volunteers/{v}", self.admin).ok,
                "dispatch to learn of the volunteers",
                # Behind a backlog (an earlier burst) dispatch may take minutes to get to them.
                timeout=600,
            )

    def order(self, number: int) -> bool:
        """One order and nothing more: the write path alone."""
        resident = self.auth("resident", f"footprint-burst-{number:06d}")
        body = {
            "category": "elder_care",
            "title": "帮忙买菜",
            "description": "腿脚不便，想请人帮忙买一周的菜",
            "township": TOWNSHIP,
            "village": "西门社区",
            "contact_phone": "13812345678",
        }
        return self.call("POST", "/api/v1/requests", resident, body).status_code == 201

    def one(self, number: int) -> None:
        try:
            self._loop(number)
            with self.lock:
                self.closed += 1
        except Exception as error:
            with self.lock:
                self.failed.append(f"{number}: {error!r}"[:200])

    def _loop(self, number: int) -> None:
        resident = self.auth("resident", f"footprint-resident-{number:05d}")
        body = {
            "category": "elder_care",
            "title": "陪老人看病",
            "description": "周三上午陪同去县医院复查",
            "township": TOWNSHIP,
            "village": "西门社区",
            "contact_phone": "13712345678",
        }
        created = self.call("POST", "/api/v1/requests", resident, body)
        created.raise_for_status()
        request_id = created.json()["id"]

        def offered() -> dict[str, Any] | None:
            answer = self.call("GET", f"/api/v1/dispatch/{request_id}", self.admin)
            attempts = answer.json().get("attempts", []) if answer.ok else []
            last = attempts[-1] if attempts else None
            return last if last and last["status"] == "offered" and last.get("volunteer_id") else None

        offer = self.until(offered, "an offer")
        volunteer = self.auth("volunteer", offer["volunteer_id"])
        task = offer["task_id"]
        self.until(
            lambda: self.call("POST", f"/api/v1/tasks/{task}/accept", volunteer).status_code == 200,
            "the volunteer to accept",
        )
        code = self.until(
            lambda: self.call("GET", f"/api/v1/requests/{request_id}", resident).json().get("service_code"),
            "the service code",
        )
        for step in ("check-in", "complete"):
            answer = self.call("POST", f"/api/v1/tasks/{task}/{step}", volunteer, {"code": code})
            answer.raise_for_status()
        rating = {"request_id": request_id, "score": 5}
        self.until(
            lambda: self.call("POST", "/api/v1/ratings", resident, rating).status_code == 201,
            "the rating to be taken",
        )
        self.until(
            lambda: self.call("GET", f"/api/v1/requests/{request_id}", resident).json()["status"] == "closed",
            "the request to close",
        )


def cpu_between(usage: Usage, since: float, until: float) -> tuple[float, float]:
    """Mean and busiest-5-s CPU (cores) of the samples taken between `since` and `until` (monotonic)."""
    load = [sample for sample in usage.cpu if since <= sample[0] <= until]
    if len(load) < 2:
        return 0.0, 0.0
    span = (load[-1][0] - load[0][0]) or 1.0
    return round((load[-1][1] - load[0][1]) / span, 3), round(busiest_window(load), 3)


def burst(loops: Loops, seconds: float, concurrency: int) -> int:
    """Orders as fast as `concurrency` clients can place them for `seconds`; how many were taken."""
    stop = time.monotonic() + seconds
    counter = iter(range(10**9))
    taken = 0
    lock = threading.Lock()

    def client() -> None:
        nonlocal taken
        while time.monotonic() < stop:
            ok = loops.order(next(counter))
            with lock:
                taken += ok

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for _ in range(concurrency):
            pool.submit(client)
    return taken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="test-h5")
    parser.add_argument("--loops", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--burst-seconds", type=float, default=20.0)
    parser.add_argument("--burst-concurrency", type=int, default=16)
    parser.add_argument("--drain-seconds", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "footprint.json")
    args = parser.parse_args()

    profile = read_profile(args.profile)
    loops = Loops(f"http://127.0.0.1:{profile['GATEWAY_PORT']}", profile["CIVICLOOP_JWT_SECRET"])
    loops.volunteers(30)
    groups = process_groups(profile)
    with Sampler(groups) as sampler:
        time.sleep(args.idle_seconds)
        idle = {name: (usage.rss_mib[-1], usage.pss_mib[-1]) for name, usage in sampler.usage.items()}
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            list(pool.map(loops.one, range(args.loops)))
        finished = time.monotonic()
        # Then the write path flat out, and the workers draining what it left them.
        burst_started = time.monotonic()
        orders = burst(loops, args.burst_seconds, args.burst_concurrency)
        burst_finished = time.monotonic()
        time.sleep(args.drain_seconds)
        drained = time.monotonic()
    seconds = finished - started
    rows = {}
    for name, usage in sampler.usage.items():
        loop_mean, loop_peak = cpu_between(usage, started, finished)
        burst_mean, burst_peak = cpu_between(usage, burst_started, burst_finished)
        drain_mean, drain_peak = cpu_between(usage, burst_finished, drained)
        rows[name] = {
            "rss_idle_mib": round(idle[name][0], 1),
            "pss_idle_mib": round(idle[name][1], 1),
            "rss_peak_mib": round(max(usage.rss_mib), 1),
            "pss_peak_mib": round(max(usage.pss_mib), 1),
            "cpu_loops_mean": loop_mean,
            "cpu_loops_peak5s": loop_peak,
            "cpu_burst_mean": burst_mean,
            "cpu_burst_peak5s": burst_peak,
            "cpu_drain_mean": drain_mean,
            "cpu_drain_peak5s": drain_peak,
        }
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "profile": args.profile,
        "loops": args.loops,
        "concurrency": args.concurrency,
        "closed": loops.closed,
        "failed": loops.failed[:10],
        "seconds": round(seconds, 1),
        "loops_per_second": round(loops.closed / seconds, 2),
        "burst_orders": orders,
        "burst_orders_per_second": round(orders / (burst_finished - burst_started), 1),
        "load_average": os.getloadavg(),
        "processes": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"{loops.closed}/{args.loops} loops closed in {seconds:.0f} s ({result['loops_per_second']}/s);")
    print(f"burst: {orders} orders taken ({result['burst_orders_per_second']}/s)")
    print("| process | RSS idle | PSS idle | RSS peak | PSS peak | CPU loops mean/peak | burst | drain |")
    print("|---|---|---|---|---|---|---|---|")
    for name, row in rows.items():
        print(
            f"| {name} | {row['rss_idle_mib']} | {row['pss_idle_mib']} | {row['rss_peak_mib']} "
            f"| {row['pss_peak_mib']} | {row['cpu_loops_mean']} / {row['cpu_loops_peak5s']} "
            f"| {row['cpu_burst_mean']} / {row['cpu_burst_peak5s']} "
            f"| {row['cpu_drain_mean']} / {row['cpu_drain_peak5s']} |"
        )
    for failure in loops.failed[:5]:
        print("failed:", failure)


if __name__ == "__main__":
    main()
