"""The `civicloop simulate` command: start the stack, run the county, settle, account, report."""

from __future__ import annotations

import json
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import click

from civicloop.profiles import ROOT, Profile
from civicloop.simulate import report as reporting
from civicloop.simulate.accounting import Accounting, differences, reconcile
from civicloop.simulate.engine import POLL_REAL_SECONDS, Run
from civicloop.simulate.gateway import Gateway
from civicloop.simulate.people import County
from civicloop.simulate.scenario import load_scenario
from civicloop.simulate.stack import SimStack
from civicloop.simulate.truth import Truth
from civicloop.simulate.world import ADMIN, build, set_policy
from services.common import clock

RESULTS = ROOT / ".run" / "simulations"


@dataclass
class Outcome:
    """What a finished run leaves: its files and the accounting (the test reads these)."""

    truth: Truth
    rollout: dict[str, Any] | None = None
    accounting: Accounting | None = None
    mismatches: list[tuple[str, str, float, float]] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)


def simulate(
    *,
    profile: Profile,
    scenario_path: str,
    days: int,
    speed: float,
    seed: int,
    chaos: bool,
    resume: bool,
    keep: bool,
    out: Path | None,
    threads: int,
    drain_days: float,
    show: bool,
    echo: Any = click.echo,
    stop_at_day: float | None = None,
) -> Outcome:
    """Run (or resume) a simulation under `profile` and write its report; stops the stack unless `keep`."""
    stack = SimStack(profile)
    folder = out or RESULTS / profile.name
    state_file = folder / "state.json"
    if resume:
        if not state_file.exists():
            raise click.ClickException(f"nothing to resume: no {state_file}")
        truth = Truth.load(state_file)
        scenario = load_scenario(truth.scenario)
        origin = datetime.fromtimestamp(truth.reached, UTC)
        echo(
            f"resuming day {int((truth.reached - truth.origin) // 86400) + 1}/{truth.days} "
            f"of {scenario.county}"
        )
    else:
        scenario = load_scenario(scenario_path)
        truth = Truth(
            scenario=scenario_path, seed=seed, days=days, speed=speed, origin=scenario.start.timestamp()
        )
        origin = scenario.start
    secret = profile.need("CIVICLOOP_JWT_SECRET")
    echo(f"starting the '{profile.name}' stack (clock ×{truth.speed:g} from {origin:%Y-%m-%d %H:%M})")
    stack.start_slow(origin - timedelta(hours=1) if resume else origin - timedelta(days=1), fresh=not resume)
    gateway = Gateway(stack.gateway_url, secret)
    try:
        if resume:
            set_policy(gateway, scenario, truth.speed)
        else:
            echo(f"registering {scenario.county}: organisation, volunteers, stewards, pairings")
            truth.world = build(gateway, scenario, seed, speed, echo)
            truth.save(state_file)
        stack.restart_clock(origin, truth.speed)
        county = County(
            gateway, scenario, truth, lambda: clock.now().timestamp(), POLL_REAL_SECONDS * truth.speed
        )
        run = Run(county, truth, state_file, threads=threads, drain_days=drain_days)
        saboteur = None
        if chaos:
            from civicloop.simulate.chaos import Saboteur

            saboteur = Saboteur(stack, truth, seed)
            saboteur.start()
        previous = signal.getsignal(signal.SIGINT)

        def stop(_signum: int, _frame: FrameType | None) -> None:
            echo("\nstopping: finishing the steps under way and saving the state (Ctrl-C again to abort)")
            run.stop_requested = True
            signal.signal(signal.SIGINT, previous)

        signal.signal(signal.SIGINT, stop)
        ended_pairings = False
        stopper: list[threading.Thread] = []

        def at_end(now: float) -> None:
            nonlocal ended_pairings
            if stop_at_day is not None and now >= truth.origin + stop_at_day * 86400:
                run.stop_requested = True
            if now >= run.end and not ended_pairings:
                ended_pairings = True
                _end_pairings(gateway, truth)
                if saboteur is not None:
                    # The faults end with the period: the drain after it is the platform's time to recover.
                    stopper.append(threading.Thread(target=saboteur.stop, name="chaos-stop", daemon=True))
                    stopper[0].start()

        try:
            run.run(on_tick=at_end, show=show)
        finally:
            signal.signal(signal.SIGINT, previous)
            if stopper:
                stopper[0].join()
            elif saboteur is not None:
                saboteur.stop()
        outcome = Outcome(truth)
        if not truth.finished:
            echo(
                f"stopped at {datetime.fromtimestamp(truth.reached, UTC):%Y-%m-%d %H:%M} (simulated); "
                f"state in {state_file}; continue with --resume"
            )
            return outcome
        if not ended_pairings:
            _end_pairings(gateway, truth)
        return _account(gateway, stack, scenario, truth, folder, outcome, echo)
    finally:
        if not keep:
            stack.stop()


def _end_pairings(gateway: Gateway, truth: Truth) -> None:
    """The simulated period is over: the pairings end, so no visit falls due that nobody will make."""
    for pairing in truth.world.pairings:
        gateway.call("POST", f"/api/v1/pairings/{pairing['id']}/end", ADMIN)


def outbox_backlog(stack: SimStack) -> float | None:
    """Events every worker still holds unconfirmed (their /metrics), or None when one does not answer."""
    import requests

    from services import SERVICES

    total = 0.0
    for service in SERVICES:
        port = stack.values[f"{service.upper()}_WORKER_METRICS_PORT"]
        try:
            text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        except requests.RequestException:
            return None
        total += sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("civicloop_outbox_backlog{")
        )
    return total


def _settled_rollout(
    gateway: Gateway, stack: SimStack, start: str, county: County, echo: Any, patience: float = 600
) -> dict[str, Any]:
    """The report once every outbox is empty and two reads a few seconds apart agree."""
    previous = None
    deadline = time.monotonic() + patience
    while True:
        county.staff_round()
        backlog = outbox_backlog(stack)
        current = gateway.get_json("/api/v1/stats/rollout", ADMIN, **{"from": start})
        assert current is not None
        comparable = json.dumps({k: v for k, v in current.items() if k != "generated_at"}, sort_keys=True)
        if (comparable == previous and backlog == 0) or time.monotonic() > deadline:
            if backlog:
                echo(f"the outboxes still held {backlog:g} events after {patience:.0f} s")
            return current
        previous = comparable
        time.sleep(6)


def _account(
    gateway: Gateway, stack: SimStack, scenario: Any, truth: Truth, folder: Path, outcome: Outcome, echo: Any
) -> Outcome:
    start = datetime.fromtimestamp(truth.origin, UTC).isoformat()
    county = County(
        gateway, scenario, truth, lambda: clock.now().timestamp(), POLL_REAL_SECONDS * truth.speed
    )
    rollout = _settled_rollout(gateway, stack, start, county, echo)
    for order in county.take_new_orders():
        truth.orders[order.key] = order
    ended = truth.origin + truth.days * 86400
    # A visit falling due in the last hours may meet its pairing's end before the sweep: not counted.
    accounting = reconcile(gateway, truth, clock.now().timestamp(), min(ended, truth.reached) - 12 * 3600)
    outcome.rollout, outcome.accounting = rollout, accounting
    outcome.mismatches = differences(truth, rollout)
    charts = reporting.draw_charts(truth, scenario, rollout, folder)
    loops = accounting.outcomes.get("closed", 0)
    facts = {
        "real time": f"{truth.real_seconds / 60:.1f} min for {truth.days} simulated days "
        f"({truth.real_seconds / truth.days:.1f} s a day; a year would take "
        f"{truth.real_seconds / truth.days * 365 / 3600:.1f} h at this pace)",
        "orders": f"{sum(1 for o in truth.orders.values() if o.submitted_at)} started, {loops} closed loops "
        f"({loops / truth.real_seconds:.2f} loops/s real)"
        if truth.real_seconds
        else "",
        "calls through the gateway": f"{gateway.calls} ({gateway.retries} met 'not now' and were repeated)",
        "faults injected": str(len(truth.faults)),
    }
    text = reporting.markdown(scenario, truth, rollout, accounting, charts, facts)
    markdown_file = folder / "report.md"
    markdown_file.write_text(text, encoding="utf-8")
    (folder / "rollout.json").write_text(json.dumps(rollout, ensure_ascii=False, indent=1), encoding="utf-8")
    pdf = reporting.write_pdf(text, charts, folder / "report.pdf")
    truth.save(folder / "state.json")
    outcome.files = {"markdown": markdown_file, "pdf": pdf, **charts}
    echo(
        f"\n{accounting.headline}; report figures differing from the ground truth: {len(outcome.mismatches)}"
    )
    echo(f"report: {markdown_file}\n        {pdf}")
    return outcome


@click.command("simulate")
@click.option("--days", default=30, show_default=True, help="simulated days")
@click.option("--speed", default=1440.0, show_default=True, help="simulated seconds per real second")
@click.option("--seed", default=1129, show_default=True, help="same seed, same county and choices")
@click.option(
    "--scenario",
    "scenario_path",
    default="gutian",
    show_default=True,
    help="a scenario YAML file, or the name of a shipped one (gutian, small)",
)
@click.option("--chaos", is_flag=True, help="kill, pause, partition and skew processes while it runs")
@click.option("--resume", is_flag=True, help="continue the run saved in the profile's state file")
@click.option("--keep", is_flag=True, help="leave the stack running afterwards")
@click.option(
    "--profile",
    "profile_name",
    default=None,
    help="simulation profile (default: sim, or sim-chaos with --chaos)",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="folder for the state and the report (default: .run/simulations/<profile>)",
)
@click.option("--threads", default=12, show_default=True, help="people acting at once")
@click.option("--drain-days", default=2.0, show_default=True, help="simulated days after the last arrival")
@click.option("--stop-at-day", type=float, default=None, help="save and stop on that day (--resume goes on)")
def simulate_command(
    days: int,
    speed: float,
    seed: int,
    scenario_path: str,
    chaos: bool,
    resume: bool,
    keep: bool,
    profile_name: str | None,
    out: Path | None,
    threads: int,
    drain_days: float,
    stop_at_day: float | None,
) -> None:
    """A county's year in an afternoon: drive the real stack, then report and account for every order."""
    profile = Profile.load(profile_name or ("sim-chaos" if chaos else "sim"))
    outcome = simulate(
        profile=profile,
        scenario_path=scenario_path,
        days=days,
        speed=speed,
        seed=seed,
        chaos=chaos,
        resume=resume,
        keep=keep,
        out=out,
        threads=threads,
        drain_days=drain_days,
        show=True,
        stop_at_day=stop_at_day,
    )
    if outcome.accounting and (
        outcome.accounting.lost or outcome.accounting.doubled or outcome.accounting.stuck
    ):
        raise SystemExit(1)
