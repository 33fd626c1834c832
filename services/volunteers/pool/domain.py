"""Rules of the claim pool (抢单): who may claim a pooled request, and in which order they see them.

Pure: no I/O. Exactly one claim wins a pooled request; the store makes that atomic (see
usecases.py), these rules say who may try.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.common import contracts
from services.common.domain import DomainError, StateConflict
from services.volunteers.people.domain import Volunteer


class AlreadyClaimed(StateConflict):
    """Someone else claimed the request first."""


def covers(pooled: contracts.RequestPooled, skills: Sequence[str] | None) -> bool:
    """Whether a volunteer with these skills could serve it (None: anyone, as staff look)."""
    return skills is None or set(pooled.skills_required) <= set(skills)


def check_claimant(pooled: contracts.RequestPooled, volunteer: Volunteer) -> None:
    """An active volunteer whose skills cover the request may claim it."""
    if not volunteer.active:
        raise StateConflict("an inactive volunteer cannot claim requests")
    if not covers(pooled, volunteer.skills):
        raise DomainError("your skills do not cover this request", field="request_id")


def own_township_first(
    entries: list[contracts.RequestPooled], township: str | None
) -> list[contracts.RequestPooled]:
    """The caller's township first, each part in the order given (oldest pooled first)."""
    return sorted(entries, key=lambda entry: entry.township != township)
