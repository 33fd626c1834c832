"""Event entrypoints of follow-ups: a low score, and a completed request that falls in the sample."""

from __future__ import annotations

from services.common.consumer import HandlerMap
from services.ratings.followups import usecases

HANDLERS: HandlerMap = {
    ("task.completed", 1): usecases.on_task_completed,
    # Our own event: a low score opens a follow-up, retried by the bus until it is stored.
    ("rating.flagged", 1): usecases.on_rating_flagged,
}
