"""Every HTTP request has a deadline, and everything it waits for on its thread stops there.

The bound, end to end (docs/adr/0094): the gateway gives up after `proxy_read_timeout` (30 s); the app
gives each request `request_timeout_seconds` (20 s by default), so it answers first, with a 503
problem, and frees its thread. Inside the request, pymongo's client-side operation timeout
(`pymongo.timeout`) bounds every database call — server selection, each round trip, retries — by what
is left, and the waits of our own (document leases, optimistic-concurrency retries) read `remaining()`.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pymongo

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("civicloop_deadline", default=None)


class DeadlineExceeded(Exception):
    """The request's time is up; whatever it was waiting for is abandoned."""


def remaining() -> float | None:
    """Seconds left before the current request's deadline; None outside a request."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def check() -> None:
    """Raise `DeadlineExceeded` when the current request's time is up."""
    left = remaining()
    if left is not None and left <= 0:
        raise DeadlineExceeded("the request ran out of time")


@contextmanager
def bounded(seconds: float) -> Iterator[None]:
    """Run the block under a deadline `seconds` from now: database calls and our own waits respect it."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        with pymongo.timeout(seconds):
            yield
    finally:
        _deadline.reset(token)


def enter(stack: ExitStack, seconds: float) -> None:
    """Start a request's deadline on `stack` (closed when the request is torn down)."""
    stack.enter_context(bounded(seconds))
