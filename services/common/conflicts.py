"""Two writers of one document: the error the later one gets, and the retry that reads and decides again."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from services.common import deadlines, locks

T = TypeVar("T")


class ConcurrencyConflict(Exception):
    """Someone else saved the document since it was read; read again and decide again."""


def retry_on_conflict(attempts: int = 8) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Re-run a read-decide-save function when another writer got there first."""
    from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_random_exponential

    return retry(
        retry=retry_if_exception_type((ConcurrencyConflict, locks.LockTimeout)),
        # An HTTP request retries only while its deadline allows (services/common/deadlines.py).
        stop=stop_after_attempt(attempts) | _out_of_time,
        wait=wait_random_exponential(multiplier=0.005, max=0.2),
        reraise=True,
    )


def _out_of_time(_state: object) -> bool:
    left = deadlines.remaining()
    return left is not None and left <= 0
