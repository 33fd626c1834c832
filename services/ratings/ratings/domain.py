"""Rules of rating (评单): only the resident who was served, only once, only after completion.

Pure: no I/O. A low score raises a flag so the township's staff follow it up (回访).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from services.common import contracts
from services.common.domain import DomainError, NotYours, StateConflict

FLAG_AT_OR_BELOW = 2


class NotRateable(StateConflict):
    """Not (yet, or any more) open for a rating."""


class NotYourRequest(NotYours):
    """Only the resident who ordered the service rates it."""


class RateableStatus(enum.StrEnum):
    AWAITING = "awaiting"
    RATED = "rated"
    CANCELLED = "cancelled"


@dataclass
class Rateable:
    """A completed service waiting for (or holding) its resident's rating; id is the request id."""

    id: str
    status: RateableStatus
    resident_id: str
    township: str
    category: str
    volunteer_id: str | None = None
    team_id: str | None = None
    task_id: str | None = None
    completed_at: datetime | None = None
    rating_id: str | None = None
    score: int | None = None
    comment: str | None = None
    rated_at: datetime | None = None
    version: int = 1


def from_completion(data: contracts.TaskCompleted) -> Rateable:
    """A completed task opens its request for rating."""
    return Rateable(
        id=data.request_id,
        status=RateableStatus.AWAITING,
        resident_id=data.resident_id,
        township=data.township,
        category=data.category,
        volunteer_id=data.volunteer_id,
        team_id=data.team_id,
        task_id=data.task_id,
        completed_at=data.completed_at,
    )


def rate(
    rateable: Rateable, *, resident_id: str, score: int, comment: str | None, rating_id: str, now: datetime
) -> list[contracts.EventData]:
    """Record the resident's rating; a low score is flagged for a follow-up."""
    if rateable.resident_id != resident_id:
        raise NotYourRequest("only the resident who ordered the service can rate it", field="request_id")
    if rateable.status == RateableStatus.RATED:
        raise NotRateable("this service has been rated already", field="request_id")
    if rateable.status != RateableStatus.AWAITING:
        raise NotRateable("this request was cancelled; there is nothing to rate", field="request_id")
    if not 1 <= score <= 5:
        raise DomainError("score must be from 1 to 5", field="score")
    rateable.status = RateableStatus.RATED
    rateable.rating_id = rating_id
    rateable.score = score
    rateable.comment = comment or None
    rateable.rated_at = now
    events: list[contracts.EventData] = [
        contracts.RequestRated(
            rating_id=rating_id,
            request_id=rateable.id,
            score=score,
            comment=rateable.comment,
            resident_id=resident_id,
            volunteer_id=rateable.volunteer_id or "",
            team_id=rateable.team_id,
            township=rateable.township,
            category=rateable.category,
            rated_at=now,
        )
    ]
    if score <= FLAG_AT_OR_BELOW:
        events.append(
            contracts.RatingFlagged(
                rating_id=rating_id,
                request_id=rateable.id,
                score=score,
                township=rateable.township,
                category=rateable.category,
                reason=f"rated {score} of 5",
            )
        )
    return events


def cancel(rateable: Rateable) -> bool:
    """A cancelled request cannot be rated, unless its service was completed already."""
    if rateable.status != RateableStatus.AWAITING or rateable.completed_at is not None:
        return False
    rateable.status = RateableStatus.CANCELLED
    return True
