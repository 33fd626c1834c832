"""The run: arrivals released at their simulated moment, each order stepped by a pool of threads.

The simulator reads the same clock as the services (services/common/clock.py, configured with the
settings it gave the stack), so "now" means the same moment to both sides.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from civicloop.simulate.demand import Arrival, arrivals
from civicloop.simulate.gateway import GatewayGone
from civicloop.simulate.people import County
from civicloop.simulate.truth import Order, Truth
from services.common import clock

# Real seconds between two looks at an order while the platform is working on it.
POLL_REAL_SECONDS = 0.5
SAVE_EVERY_REAL_SECONDS = 20.0


@dataclass
class Counters:
    """What the progress bar shows."""

    started: float = field(default_factory=time.monotonic)
    steps: int = 0
    errors: int = 0
    last_error: str = ""
    printed: float = 0.0


def orderer_of(arrival: Arrival, county: County) -> tuple[str, str]:
    """Who starts an arrival: a resident, a village committee, a steward or the township's staff."""
    number = county.index.get(arrival.township, 0)
    match arrival.kind:
        case "patrol":
            stewards = county.world.stewards.get(arrival.township) or [f"steward-{number:02d}-0"]
            return stewards[hash(arrival.key) % len(stewards)], "steward"
        case "wish":
            return f"dispatcher-{number:02d}", "dispatcher"
        case "lecture":
            return f"village-{number:02d}-{arrival.village}", "resident"
        case _:
            return f"resident-{number:02d}-{int(arrival.key[1:]) % 5000:04d}", "resident"


def order_of(arrival: Arrival, county: County) -> Order:
    orderer, role = orderer_of(arrival, county)
    return Order(
        key=arrival.key,
        kind=arrival.kind,
        category=arrival.category,
        township=arrival.township,
        village=arrival.village,
        urgency=arrival.urgency,
        orderer=orderer,
        orderer_role=role,
        planned_at=arrival.at,
        tier=arrival.tier,
        next_at=arrival.at,
    )


class Run:
    """One simulation run over a truth (fresh or resumed), until its last day and the drain after it."""

    def __init__(
        self, county: County, truth: Truth, state_file: Path, *, threads: int = 12, drain_days: float = 2.0
    ) -> None:
        self.county = county
        self.truth = truth
        self.state_file = state_file
        self.threads = threads
        self.drain_days = drain_days
        self.counters = Counters()
        self.arrivals = arrivals(county.scenario, truth.days, truth.seed)
        self._heap: list[tuple[float, int, str]] = []
        self._sequence = itertools.count()
        self.stop_requested = False
        self.next_round = truth.reached if truth.reached else truth.origin

    @property
    def end(self) -> float:
        return self.truth.origin + self.truth.days * 86400

    def push(self, order: Order) -> None:
        heapq.heappush(self._heap, (order.next_at, next(self._sequence), order.key))

    def run(self, on_tick: Callable[[float], None] | None = None, show: bool = True) -> None:
        """Release arrivals and step orders until the last day has passed and the drain is over."""
        for order in self.truth.orders.values():
            if not order.done and order.next_at != float("inf"):
                self.push(order)
        in_flight: dict[Future, str] = {}
        busy: set[str] = set()
        round_future: Future | None = None
        last_save = time.monotonic()
        progress = _progress(show)
        task = progress.add_task(
            "simulating",
            total=self.truth.days * 86400,
            orders=0,
            loops=0,
            orders_rate=0.0,
            loops_rate=0.0,
            errors=0,
        )
        with progress, ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="people") as pool:
            while not self.stop_requested:
                now = clock.now().timestamp()
                self.truth.reached = now
                self._release(now)
                for order in self.county.take_new_orders():
                    self.truth.orders[order.key] = order
                    self.push(order)
                if now >= self.next_round and (round_future is None or round_future.done()):
                    self.next_round = now + 86400 / 4
                    round_future = pool.submit(self._guarded, self.county.staff_round)
                while self._heap and self._heap[0][0] <= now and len(in_flight) < self.threads * 2:
                    _, _, key = heapq.heappop(self._heap)
                    order = self.truth.orders[key]
                    if key in busy or order.done or order.next_at > now:
                        continue
                    busy.add(key)
                    in_flight[pool.submit(self._step, order)] = key
                if in_flight:
                    finished, _ = wait(list(in_flight), timeout=0.02, return_when=FIRST_COMPLETED)
                    for future in finished:
                        key = in_flight.pop(future)
                        busy.discard(key)
                        order = self.truth.orders[key]
                        if not order.done and order.next_at != float("inf"):
                            self.push(order)
                else:
                    time.sleep(0.02)
                self._show(progress, task, now)
                if on_tick is not None:
                    on_tick(now)
                if time.monotonic() - last_save > SAVE_EVERY_REAL_SECONDS:
                    self.save()
                    last_save = time.monotonic()
                if now >= self.end + self.drain_days * 86400 or (now >= self.end and self._all_quiet()):
                    break
            for future in list(in_flight):
                future.result()
                order = self.truth.orders[in_flight.pop(future)]
                if not order.done and order.next_at != float("inf"):
                    self.push(order)
        self.truth.finished = not self.stop_requested
        self.save()

    def _release(self, now: float) -> None:
        while (
            self.truth.next_arrival < len(self.arrivals) and self.arrivals[self.truth.next_arrival].at <= now
        ):
            order = order_of(self.arrivals[self.truth.next_arrival], self.county)
            self.truth.orders[order.key] = order
            self.push(order)
            self.truth.next_arrival += 1

    def _all_quiet(self) -> bool:
        """Nothing left to do: every order finished, or waiting on a person who will not act."""
        return self.truth.next_arrival >= len(self.arrivals) and all(
            order.done or order.phase == "idle" for order in self.truth.orders.values()
        )

    def _step(self, order: Order) -> None:
        # How late the person acts (the simulator's own lag behind the clock), in simulated seconds.
        self.truth.lateness.append(round(max(0.0, clock.now().timestamp() - order.next_at), 1))
        self._guarded(lambda: self.county.step(order), order)

    def _guarded(self, action: Callable[[], None], order: Order | None = None) -> None:
        try:
            action()
            self.counters.steps += 1
        except (GatewayGone, RuntimeError, KeyError, ValueError) as error:
            # Whatever went wrong, the person tries again a little later; the story keeps the error.
            self.counters.errors += 1
            self.counters.last_error = f"{type(error).__name__}: {error}"[:200]
            if order is not None:
                order.note(clock.now().timestamp(), "error", self.counters.last_error)
                order.next_at = clock.now().timestamp() + self.county.poll * 4

    def _show(self, progress: Progress, task: int, now: float) -> None:
        orders = self.truth.orders.values()
        submitted = sum(1 for o in orders if o.submitted_at)
        closed = sum(1 for o in orders if o.outcome == "closed")
        real = self.truth.real_seconds + time.monotonic() - self.counters.started
        day = min(self.truth.days, int((now - self.truth.origin) // 86400) + 1)
        if not progress.console.is_terminal and time.monotonic() - self.counters.printed > 60:
            # A log (CI, a file) gets a plain line a minute instead of a bar.
            self.counters.printed = time.monotonic()
            progress.console.print(
                f"day {day}/{self.truth.days}: {submitted} orders, {closed} loops closed, "
                f"{self.counters.errors} errors, {len(self.truth.faults)} faults, {real:.0f} s"
            )
        progress.update(
            task,
            completed=min(now - self.truth.origin, self.truth.days * 86400),
            description=f"day {day}/{self.truth.days}",
            orders=submitted,
            loops=closed,
            orders_rate=submitted / real if real else 0.0,
            loops_rate=closed / real if real else 0.0,
            errors=self.counters.errors,
        )

    def save(self) -> None:
        self.truth.real_seconds += time.monotonic() - self.counters.started
        self.counters.started = time.monotonic()
        self.truth.save(self.state_file)


def _progress(show: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("orders {task.fields[orders]} ({task.fields[orders_rate]:.2f}/s)"),
        TextColumn("loops closed {task.fields[loops]} ({task.fields[loops_rate]:.2f}/s)"),
        TextColumn("errors {task.fields[errors]}"),
        TimeElapsedColumn(),
        disable=not show,
    )
