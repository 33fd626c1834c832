"""Rules of volunteer hours: the resident's service code, check-in and check-out, and corrections.

Pure: no I/O. Accepting a task makes a short code (tasks/domain.py); the resident
sees it in their request and reads it out at the door. Check-in and check-out both need it, so
hours are the time the resident confirmed, not a number the volunteer types in (docs/adr/0051).
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.common import contracts
from services.common.domain import DomainError, NotYours, StateConflict
from services.volunteers.tasks.domain import Task, TaskStatus, WrongTaskState, ensure_assignee

# Five wrong codes lock code entry for a quarter of an hour: 10^6 codes cannot be guessed that way.
MAX_CODE_ATTEMPTS = 5
CODE_LOCKOUT = timedelta(minutes=15)
QUARTER = 0.25
# A visit the resident confirmed counts for at least a quarter hour; one service credits at most a
# working day (a check-out forgotten overnight must not credit 20 hours; staff can correct it).
MIN_HOURS = QUARTER
MAX_HOURS = 12.0
MAX_PARTICIPANTS = 50


class WrongCode(DomainError):
    """The code does not match the one the resident was given."""


class CodeLocked(StateConflict):
    """Too many wrong codes; code entry waits until the lock-out ends."""


class NotAParticipant(DomainError):
    """A named participant cannot be credited on this task."""


class NotStaffOfTownship(NotYours):
    """Township staff correct the hours of their own township only."""


def round_to_quarter(hours: float) -> float:
    """The nearest quarter hour (halves round up, as a resident would count)."""
    return math.floor(hours / QUARTER + 0.5) * QUARTER


def served_hours(checked_in_at: datetime, checked_out_at: datetime) -> tuple[float, bool]:
    """(hours to credit, whether the cap cut them): check-out − check-in, in quarter hours."""
    elapsed = max((checked_out_at - checked_in_at).total_seconds(), 0) / 3600
    hours = max(round_to_quarter(elapsed), MIN_HOURS)
    if hours > MAX_HOURS:
        return MAX_HOURS, True
    return hours, False


@dataclass(frozen=True)
class CodeCheck:
    """What a code attempt did: whether it matched; a wrong one counts against the task."""

    matched: bool
    attempts: int
    locked_until: datetime | None


def check_code(task: Task, code: str, now: datetime) -> CodeCheck:
    """Compare a code with the task's; count a wrong one and lock entry after too many."""
    locked_until = task.code_locked_until
    if locked_until is not None and now < locked_until:
        raise CodeLocked(
            f"too many wrong codes; try again after {locked_until:%H:%M} UTC or ask the station", field="code"
        )
    expected = task.service_code
    if expected is not None and secrets.compare_digest(expected, code.strip()):
        return CodeCheck(True, 0, None)
    attempts = task.code_attempts + 1
    if attempts >= MAX_CODE_ATTEMPTS:
        return CodeCheck(False, 0, now + CODE_LOCKOUT)
    return CodeCheck(False, attempts, None)


def record_code_check(task: Task, check: CodeCheck) -> None:
    """Keep the count of wrong attempts (and the lock-out) on the task."""
    task.code_attempts = check.attempts
    task.code_locked_until = check.locked_until


def check_out(
    task: Task,
    volunteer_id: str,
    now: datetime,
    participant_ids: list[str],
    team_members: list[str] | None,
    people_served: int = 1,
) -> list[contracts.EventData]:
    """The resident confirmed the end; everyone who served is credited check-out − check-in.

    `team_members` is the member list of the task's team (None for a task offered to one
    volunteer); companions named on a team task must belong to that team.
    """
    ensure_assignee(task, volunteer_id)
    if task.status != TaskStatus.IN_SERVICE or task.checked_in_at is None:
        raise WrongTaskState(f"a task that is {task.status.value} cannot be checked out; check in first")
    companions = [p for p in dict.fromkeys(participant_ids) if p != volunteer_id]
    if len(companions) >= MAX_PARTICIPANTS:
        raise NotAParticipant(f"at most {MAX_PARTICIPANTS} participants", field="participant_ids")
    if team_members is not None:
        outsiders = [p for p in companions if p not in team_members]
        if outsiders:
            raise NotAParticipant(
                f"not members of the task's team: {', '.join(outsiders)}", field="participant_ids"
            )
    hours, capped = served_hours(task.checked_in_at, now)
    task.status = TaskStatus.COMPLETED
    task.completed_at = now
    task.checked_out_at = now
    task.hours = hours
    task.hours_capped = capped
    everyone = [volunteer_id, *companions]
    task.participants = [{"volunteer_id": v, "hours": hours} for v in everyone]
    return [
        contracts.TaskCompleted(
            task_id=task.id,
            request_id=task.request_id,
            volunteer_id=volunteer_id,
            team_id=task.team_id,
            participants=[contracts.Participant(volunteer_id=v, hours=hours) for v in everyone],
            hours=hours,
            people_served=people_served,
            resident_id=task.resident_id,
            township=task.township,
            category=task.category,
            completed_at=now,
        )
    ]


@dataclass(frozen=True)
class Correction:
    """A staff correction of one ledger line: the ledger keeps both, so nothing is rewritten."""

    entry_id: str
    volunteer_id: str
    before: float
    after: float
    reason: str
    corrected_by: str
    corrected_at: datetime

    @property
    def delta(self) -> float:
        """What the correction adds to (or takes from) the volunteer's total."""
        return round(self.after - self.before, 2)


def correct(
    entry: dict[str, object],
    current_hours: float,
    *,
    hours: float,
    reason: str,
    by: str,
    staff_township: str | None,
    now: datetime,
) -> Correction:
    """A correction of a ledger line from `current_hours` to `hours`, by staff covering its township."""
    if staff_township is not None and entry.get("township") != staff_township:
        raise NotStaffOfTownship(f"you correct hours of {staff_township} only", field="entry_id")
    if not reason.strip():
        raise DomainError("say why the hours change", field="reason")
    if not 0 <= hours <= MAX_HOURS:
        raise DomainError(f"hours must be from 0 to {MAX_HOURS:g}", field="hours")
    if round_to_quarter(hours) != hours:
        raise DomainError("hours are counted in quarter hours", field="hours")
    if hours == current_hours:
        raise StateConflict(f"the entry has {hours:g} hours already", field="hours")
    return Correction(
        entry_id=str(entry["_id"]),
        volunteer_id=str(entry["volunteer_id"]),
        before=current_hours,
        after=hours,
        reason=reason.strip(),
        corrected_by=by,
        corrected_at=now,
    )


# --- the ledger ------------------------------------------------------------------------------------
CORRECTION = "correction"


@dataclass(frozen=True)
class LedgerCorrection:
    """A correction line of the ledger, as stored: what it changed, by how much, who and why."""

    id: str
    before: float
    after: float
    delta: float
    reason: str
    corrected_by: str
    corrected_at: datetime


@dataclass(frozen=True)
class LedgerEntry:
    """One task's credit with its corrections; `hours` counts them, `credited_hours` does not."""

    id: str
    task_id: str
    request_id: str
    township: str | None
    category: str | None
    completed_at: datetime | None
    credited_hours: float
    hours: float
    corrections: list[LedgerCorrection]


@dataclass(frozen=True)
class Ledger:
    """A volunteer's hours: each task newest first, and the total after corrections."""

    volunteer_id: str
    total_hours: float
    tasks: int
    entries: list[LedgerEntry]


def ledger_correction(line: Mapping[str, Any]) -> LedgerCorrection:
    """A stored correction line."""
    return LedgerCorrection(
        id=line["_id"],
        before=line["before"],
        after=line["after"],
        delta=line["hours"],
        reason=line["reason"],
        corrected_by=line["corrected_by"],
        corrected_at=line["corrected_at"],
    )


def ledger(volunteer_id: str, lines: list[Mapping[str, Any]]) -> Ledger:
    """The ledger from its stored lines: credits from tasks, and staff corrections of them."""
    credits = [line for line in lines if line.get("kind", "credit") != CORRECTION]
    corrections: dict[str, list[Mapping[str, Any]]] = {}
    for line in lines:
        if line.get("kind") == CORRECTION:
            corrections.setdefault(line["corrects"], []).append(line)
    entries = []
    for credit in sorted(credits, key=lambda line: line.get("completed_at"), reverse=True):
        fixes = corrections.get(credit["_id"], [])
        entries.append(
            LedgerEntry(
                id=credit["_id"],
                task_id=credit["task_id"],
                request_id=credit["request_id"],
                township=credit.get("township"),
                category=credit.get("category"),
                completed_at=credit.get("completed_at"),
                credited_hours=credit["hours"],
                hours=round(credit["hours"] + sum(fix["hours"] for fix in fixes), 2),
                corrections=[ledger_correction(fix) for fix in fixes],
            )
        )
    return Ledger(
        volunteer_id=volunteer_id,
        total_hours=round(sum(line["hours"] for line in lines), 2),
        tasks=len(credits),
        entries=entries,
    )
