"""Rules of pairing (结对帮扶): volunteers paired with a beneficiary, a visit schedule, missed visits.

Pure: no I/O. A pairing's schedule turns into visits; each visit has a deterministic id
(`<pairing id>:<due date>`), so the periodic job that makes them can run on any worker, be
restarted at any time and still make each visit, and announce it, exactly once (docs/adr/0054).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, get_args

from services.common import contracts
from services.common.domain import DomainError, StateConflict

Flag = Literal[
    "living_alone",  # 独居
    "bereaved_only_child",  # 失独
    "elderly",  # 高龄
    "disabled",  # 残疾
    "left_behind",  # 留守
    "low_income",  # 低保
    "sick",  # 重病
]
FLAGS: tuple[str, ...] = get_args(Flag)
MAX_VOLUNTEERS = 10


class VisitStatus(enum.StrEnum):
    DUE = "due"
    REQUESTED = "requested"
    DONE = "done"
    MISSED = "missed"


OPEN_VISITS = frozenset({VisitStatus.DUE, VisitStatus.REQUESTED})


class PairingInactive(StateConflict):
    """The pairing has ended; it makes no more visits."""


@dataclass
class Beneficiary:
    """Someone the county pairs volunteers with: where they live and why they need visits."""

    id: str
    name: str
    township: str
    village: str
    flags: list[str]
    registered_at: datetime
    address: str | None = None
    phone: str | None = None
    # The resident account the beneficiary (or their family) uses, if any: visits are their orders.
    resident_id: str | None = None
    version: int = 1


@dataclass
class Pairing:
    """One or several volunteers paired with one beneficiary, visiting every `every_days` days."""

    id: str
    beneficiary_id: str
    volunteer_ids: list[str]
    township: str
    village: str
    every_days: int
    grace_hours: int
    next_due_at: datetime
    created_at: datetime
    category: str = "elder_care"
    note: str | None = None
    active: bool = True
    visits_made: int = 0
    version: int = 1

    @property
    def kind(self) -> str:
        """一对一 or 多对一."""
        return "one_to_one" if len(self.volunteer_ids) == 1 else "many_to_one"


@dataclass
class Visit:
    """One scheduled visit of a pairing and what became of it."""

    id: str
    pairing_id: str
    beneficiary_id: str
    volunteer_ids: list[str]
    township: str
    village: str
    due_at: datetime
    complete_by: datetime
    status: VisitStatus
    request_id: str | None = None
    task_id: str | None = None
    done_at: datetime | None = None
    done_by: list[str] = field(default_factory=list)
    missed_at: datetime | None = None
    version: int = 1


def check_beneficiary(flags: list[str]) -> None:
    """Flags come from the county's list."""
    unknown = sorted(set(flags) - set(FLAGS))
    if unknown:
        raise DomainError(f"unknown flags {', '.join(unknown)}; use {', '.join(FLAGS)}", field="flags")


def new_pairing(
    *,
    pairing_id: str,
    beneficiary: Beneficiary,
    volunteer_ids: list[str],
    every_days: int,
    grace_hours: int,
    first_visit_at: datetime,
    category: str,
    note: str | None,
    now: datetime,
) -> Pairing:
    """A pairing of distinct volunteers with a beneficiary; the first visit falls due at `first_visit_at`."""
    distinct = list(dict.fromkeys(volunteer_ids))
    if not distinct:
        raise DomainError("pair at least one volunteer", field="volunteer_ids")
    if len(distinct) > MAX_VOLUNTEERS:
        raise DomainError(f"at most {MAX_VOLUNTEERS} volunteers per beneficiary", field="volunteer_ids")
    if not 1 <= every_days <= 366:
        raise DomainError("visit every 1 to 366 days", field="every_days")
    return Pairing(
        id=pairing_id,
        beneficiary_id=beneficiary.id,
        volunteer_ids=distinct,
        township=beneficiary.township,
        village=beneficiary.village,
        every_days=every_days,
        grace_hours=grace_hours,
        next_due_at=first_visit_at,
        created_at=now,
        category=category,
        note=note,
    )


def visit_id(pairing_id: str, due_at: datetime) -> str:
    """The same visit always gets the same id: this is what makes the timer fire once."""
    return f"{pairing_id}:{due_at:%Y%m%dT%H%M}"


def due_visit(
    pairing: Pairing, beneficiary: Beneficiary, now: datetime
) -> tuple[Visit, contracts.PairingVisitDue] | None:
    """The visit that has fallen due (and its announcement), or None when none is due yet."""
    if not pairing.active or pairing.next_due_at > now:
        return None
    due_at = pairing.next_due_at
    complete_by = due_at + timedelta(hours=pairing.grace_hours)
    visit = Visit(
        id=visit_id(pairing.id, due_at),
        pairing_id=pairing.id,
        beneficiary_id=pairing.beneficiary_id,
        volunteer_ids=list(pairing.volunteer_ids),
        township=pairing.township,
        village=pairing.village,
        due_at=due_at,
        complete_by=complete_by,
        status=VisitStatus.DUE,
    )
    event = contracts.PairingVisitDue(
        pairing_id=pairing.id,
        visit_id=visit.id,
        beneficiary_id=beneficiary.id,
        volunteer_ids=list(pairing.volunteer_ids),
        township=pairing.township,
        village=pairing.village,
        due_at=due_at,
        category=pairing.category,
        resident_id=beneficiary.resident_id,
        address=beneficiary.address,
        note=pairing.note,
        complete_by=complete_by,
    )
    return visit, event


def advance(pairing: Pairing, made_visit_due_at: datetime, now: datetime) -> None:
    """Move the schedule past the visit just made (skipping periods that passed while nobody ran it)."""
    if pairing.next_due_at != made_visit_due_at:
        return
    step = timedelta(days=pairing.every_days)
    next_due = made_visit_due_at + step
    while next_due + timedelta(hours=pairing.grace_hours) < now:
        next_due += step
    pairing.next_due_at = next_due
    pairing.visits_made += 1


def link_request(visit: Visit, request_id: str) -> bool:
    """The requests stage made the visit into an order; False when it was known already."""
    if visit.request_id == request_id:
        return False
    visit.request_id = request_id
    if visit.status == VisitStatus.DUE:
        visit.status = VisitStatus.REQUESTED
    return True


def complete(visit: Visit, task_id: str, participants: list[str], completed_at: datetime) -> bool:
    """The visit's task was completed: the visit is done (even if late: it was flagged missed then)."""
    if visit.status == VisitStatus.DONE:
        return False
    visit.status = VisitStatus.DONE
    visit.task_id = task_id
    visit.done_at = completed_at
    visit.done_by = participants
    return True


def miss_if_overdue(visit: Visit, now: datetime) -> bool:
    """Flag an open visit whose time is up; True when it was flagged now."""
    if visit.status not in OPEN_VISITS or now <= visit.complete_by:
        return False
    visit.status = VisitStatus.MISSED
    visit.missed_at = now
    return True


def end(pairing: Pairing) -> None:
    """End a pairing: no more visits fall due."""
    if not pairing.active:
        raise PairingInactive("the pairing has ended already")
    pairing.active = False
