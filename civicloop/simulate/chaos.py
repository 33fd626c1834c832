"""`--chaos`: faults while the county runs, each written down with its simulated moment.

Every few real seconds one of: SIGKILL of a process (web, worker, database server, PostgreSQL; the
process manager starts it again), SIGSTOP of a worker for longer than the leases (then SIGCONT), a
RabbitMQ node killed and started again, a RabbitMQ node partitioned from the other two (iptables on
its distribution port, loopback only, and its distribution sockets cut with `ss -K`), and a clock
that jumps for one process (its offset file). Only one broker fault at a time, so a majority stays.
Every fault is undone by `stop()`, whatever happened.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

from civicloop.profiles import ROOT
from civicloop.simulate.stack import NODES, SimStack
from civicloop.simulate.truth import Truth
from services import SERVICES
from services.common import clock

# Leases last 5 s (services/common/locks.py): a pause must outlast them to matter.
PAUSE_SECONDS = (8.0, 15.0)
# Erlang notices a silent peer after net_ticktime (60 s) give or take a quarter: partitions outlast it.
PARTITION_SECONDS = (80.0, 100.0)
BETWEEN_FAULTS_SECONDS = (6.0, 14.0)
# After a broker node comes back, its quorum queue members catch up before another node may fail.
BROKER_RECOVERY_SECONDS = 45.0
RULE_COMMENT = "civicloop-sim-chaos"


class Saboteur(threading.Thread):
    """Injects faults into a simulation's stack until stopped."""

    def __init__(self, stack: SimStack, truth: Truth, seed: int) -> None:
        super().__init__(name="chaos", daemon=True)
        self.stack = stack
        self.truth = truth
        self.rng = random.Random(f"{seed}:chaos")
        self.halt = threading.Event()
        self.undo: list[tuple[float, str, Callable[[], None]]] = []
        self.broker_busy = False
        self.values = stack.values
        self.comment = f"{RULE_COMMENT}-{stack.name}"
        if shutil.which("iptables") is None:
            # Debian's package, as the stack installs its other tools (deploy/local/lib.sh apt_install).
            subprocess.run(
                ["bash", "-c", f"source {ROOT}/deploy/local/lib.sh && apt_install iptables"], check=False
            )
        self._clear_rules()

    # -- bookkeeping ----------------------------------------------------------------------------------
    def record(self, kind: str, detail: str) -> None:
        self.truth.faults.append({"at": clock.now().timestamp(), "kind": kind, "detail": detail})

    def later(self, seconds: float, what: str, action: Callable[[], None]) -> None:
        self.undo.append((time.monotonic() + seconds, what, action))

    def run(self) -> None:
        # The stack settles first: faults start a little after the clock does.
        self.halt.wait(10)
        faults = [self.kill, self.kill, self.pause, self.clock_jump]
        if self.stack.nodes >= 3:
            faults += [self.broker_restart, self.partition]
        while not self.halt.is_set():
            self._undo_due()
            try:
                self.rng.choice(faults)()
            except Exception as error:  # a fault that could not be made is noted, never fatal
                self.record("fault failed", f"{type(error).__name__}: {error}"[:200])
            deadline = time.monotonic() + self.rng.uniform(*BETWEEN_FAULTS_SECONDS)
            while time.monotonic() < deadline and not self.halt.is_set():
                self._undo_due()
                self.halt.wait(0.5)

    def stop(self) -> None:
        """Stop injecting and undo every fault still in force."""
        self.halt.set()
        self.join(timeout=30)
        for _, what, action in sorted(self.undo, key=lambda item: item[0]):
            try:
                action()
            except Exception as error:
                self.record("undo failed", f"{what}: {error}"[:200])
        self.undo.clear()
        self._clear_rules()

    def _undo_due(self) -> None:
        now = time.monotonic()
        due = [item for item in self.undo if item[0] <= now]
        self.undo = [item for item in self.undo if item[0] > now]
        for _, what, action in due:
            try:
                action()
            except Exception as error:
                self.record("undo failed", f"{what}: {error}"[:200])

    # -- the faults -----------------------------------------------------------------------------------
    def _programs(self, infra: bool = True) -> list[str]:
        programs = [f"services:{s}-{kind}" for s in SERVICES for kind in ("web", "worker")]
        if infra:
            programs += [f"infra:ferretdb-{s}" for s in SERVICES] + ["infra:postgres"]
        return programs

    def kill(self) -> None:
        """SIGKILL one process; supervisord starts it again."""
        program = self.rng.choice(self._programs())
        self.stack.ctl("signal", "KILL", program)
        self.record("kill -9", program)

    def pause(self) -> None:
        """SIGSTOP a worker (or web process) for longer than the leases, then SIGCONT."""
        program = self.rng.choice(self._programs(infra=False))
        seconds = self.rng.uniform(*PAUSE_SECONDS)
        self.stack.ctl("signal", "STOP", program)
        self.record("SIGSTOP", f"{program} for {seconds:.0f} s real")
        self.later(seconds, f"SIGCONT {program}", lambda: self.stack.ctl("signal", "CONT", program))

    def clock_jump(self) -> None:
        """One process's clock jumps ahead or back by hours of simulated time, for a while."""
        service = self.rng.choice(SERVICES)
        process = f"{service}-{self.rng.choice(('web', 'worker'))}"
        jump = self.rng.choice((-1, 1)) * self.rng.uniform(1, 6) * 3600
        seconds = self.rng.uniform(10, 30)
        path = self.stack.offset_dir / process
        path.write_text(f"{jump:.0f}\n", encoding="utf-8")
        self.record("clock jump", f"{process} {jump / 3600:+.1f} h for {seconds:.0f} s real")
        self.later(seconds, f"clock back {process}", lambda: path.unlink(missing_ok=True))

    def _node(self) -> int:
        return self.rng.randint(1, self.stack.nodes)

    def broker_restart(self) -> None:
        """Kill a RabbitMQ node the hard way and start it again a little later."""
        if self.broker_busy:
            return
        node = self._node()
        self.broker_busy = True
        self.stack.script(NODES, "kill-node", self.stack.name, str(node))
        self.record("RabbitMQ node killed", f"node {node}")

        def restart() -> None:
            try:
                self.stack.script(NODES, "start-node", self.stack.name, str(node), timeout=180)
            finally:
                self._recovered_later()

        self.later(self.rng.uniform(10, 25), f"start node {node}", restart)

    def _recovered_later(self) -> None:
        """The next broker fault waits until the queues have caught up on the node that came back."""
        self.later(BROKER_RECOVERY_SECONDS, "broker recovered", lambda: setattr(self, "broker_busy", False))

    def _dist_port(self, node: int) -> int:
        return int(self.values["RABBITMQ_DIST_PORT_BASE"]) + node - 1

    def partition(self) -> None:
        """Cut one RabbitMQ node off from the other two (clients can still reach it)."""
        if self.broker_busy:
            return
        node = self._node()
        self.broker_busy = True
        mine = self._dist_port(node)
        others = [self._dist_port(n) for n in range(1, self.stack.nodes + 1) if n != node]
        rules = [
            ["-p", "tcp", "--dport", str(mine)],
            ["-p", "tcp", "--sport", str(mine)],
            # New connections to the others' distribution ports can only come from the cut-off node.
            ["-p", "tcp", "--syn", "-m", "multiport", "--dports", ",".join(map(str, others))],
        ]
        for rule in rules:
            _iptables("-I", rule, self.comment)
        self._cut_sockets(node, mine, others)
        seconds = self.rng.uniform(*PARTITION_SECONDS)
        self.record("RabbitMQ partition", f"node {node} cut off for {seconds:.0f} s real")

        def heal() -> None:
            try:
                for rule in rules:
                    _iptables("-D", rule, self.comment)
            finally:
                self._recovered_later()

        self.later(seconds, f"heal node {node}", heal)

    def _cut_sockets(self, node: int, mine: int, others: list[int]) -> None:
        """Established distribution connections of the node are cut at once (new ones are dropped)."""
        pid_file = f"/var/lib/rabbitmq/civicloop-nodes/{self.stack.name}/node{node}/pid"
        try:
            with open(pid_file, encoding="utf-8") as handle:
                pid = handle.read().strip()
        except OSError:
            pid = ""
        subprocess.run(
            ["ss", "-K", "-tn", f"( sport = :{mine} or dport = :{mine} )"], capture_output=True, check=False
        )
        if not pid:
            return
        listing = subprocess.run(
            ["ss", "-tnpH", "state", "established"], capture_output=True, text=True, check=False
        )
        for line in listing.stdout.splitlines():
            parts = line.split()
            if f"pid={pid}," not in line or len(parts) < 4:
                continue
            local, peer = parts[2], parts[3]
            if any(peer.endswith(f":{port}") for port in others):
                subprocess.run(
                    ["ss", "-K", "-tn", "src", local, "dst", peer], capture_output=True, check=False
                )

    def _clear_rules(self) -> None:
        """Remove every rule a chaos run left (a run that died mid-partition, say)."""
        listing = subprocess.run(["iptables", "-S", "INPUT"], capture_output=True, text=True, check=False)
        for line in listing.stdout.splitlines():
            if self.comment in line and line.startswith("-A "):
                subprocess.run(["iptables", "-D", *line.split()[1:]], capture_output=True, check=False)


def _iptables(action: str, rule: list[str], comment: str) -> None:
    """One loopback rule of the partition, named so that a later run can clean it up."""
    command = [
        "iptables",
        action,
        "INPUT",
        "-i",
        "lo",
        *rule,
        "-m",
        "comment",
        "--comment",
        comment,
        "-j",
        "DROP",
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"iptables {action}: {done.stderr.strip()[:200]}")


def summary(truth: Truth) -> dict[str, Any]:
    """Faults by kind."""
    counts: dict[str, int] = {}
    for fault in truth.faults:
        counts[fault["kind"]] = counts.get(fault["kind"], 0) + 1
    return counts
