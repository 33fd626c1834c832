"""Rules of follow-ups (回访): township staff call back residents after low scores and on a sample.

Pure: no I/O. Every rating of 1 or 2 opens a follow-up; so does a deterministic sample of the
completed requests (by a hash of the request id, so every worker and every redelivery agrees).
A request has at most one follow-up; its reasons accumulate (docs/adr/0052).
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import datetime

from services.common import contracts
from services.common.domain import DomainError, NotYours, StateConflict

LOW_SCORE = "low_score"
SAMPLED = "sampled"
OUTCOMES = ("satisfied", "resolved", "unresolved", "unreachable")


class FollowupStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class AlreadyResolved(StateConflict):
    """The follow-up's outcome has been recorded."""


class NotYourTownship(NotYours):
    """Township staff follow up their own township."""


@dataclass
class Followup:
    """A call-back to the resident of one request; `id` is the request id."""

    id: str
    township: str
    category: str
    reasons: list[str]
    opened_at: datetime
    status: FollowupStatus = FollowupStatus.OPEN
    resident_id: str | None = None
    volunteer_id: str | None = None
    score: int | None = None
    comment: str | None = None
    outcome: str | None = None
    note: str | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    version: int = 1


def sampled(request_id: str, percent: float) -> bool:
    """Whether a completed request falls in the sample: stable for the id, `percent` of all ids."""
    if percent <= 0:
        return False
    bucket = int.from_bytes(hashlib.sha256(request_id.encode()).digest()[:8], "big") % 10_000
    return bucket < percent * 100


def add_reason(followup: Followup, reason: str, *, score: int | None, comment: str | None) -> bool:
    """Another reason to call (a low score on a sampled request); False when it was known already."""
    changed = False
    if reason not in followup.reasons:
        followup.reasons = [*followup.reasons, reason]
        changed = True
    if score is not None and followup.score != score:
        followup.score = score
        followup.comment = comment
        changed = True
    return changed


def resolve(
    followup: Followup,
    *,
    outcome: str,
    note: str | None,
    by: str,
    staff_township: str | None,
    now: datetime,
) -> list[contracts.EventData]:
    """Record how the call went; the township's staff (or county staff) do it once."""
    if staff_township is not None and staff_township != followup.township:
        raise NotYourTownship(f"you follow up {staff_township} only", field="followup_id")
    if followup.status == FollowupStatus.RESOLVED:
        raise AlreadyResolved("this follow-up has an outcome already", field="followup_id")
    if outcome not in OUTCOMES:
        raise DomainError(f"outcome must be one of {', '.join(OUTCOMES)}", field="outcome")
    followup.status = FollowupStatus.RESOLVED
    followup.outcome = outcome
    followup.note = note or None
    followup.resolved_by = by
    followup.resolved_at = now
    return [
        contracts.FollowupResolved(
            followup_id=followup.id,
            request_id=followup.id,
            outcome=outcome,
            township=followup.township,
            resolved_at=now,
        )
    ]
