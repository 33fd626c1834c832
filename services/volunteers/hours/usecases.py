"""Use cases of volunteer hours: coded check-in and check-out, crediting, the ledger, corrections."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from services.common import audit, contracts, locks
from services.common.auth import Principal
from services.common.domain import Missing
from services.common.events import Envelope, make_event
from services.common.ids import new_id, utcnow
from services.common.store import holding
from services.volunteers import SERVICE
from services.volunteers.hours import domain
from services.volunteers.hours.domain import CORRECTION, Ledger, LedgerCorrection
from services.volunteers.hours.models import HoursEntry
from services.volunteers.organisation import usecases as organisation
from services.volunteers.people import usecases as people
from services.volunteers.tasks import domain as task_rules
from services.volunteers.tasks import usecases as tasks
from services.volunteers.tasks.domain import Task, TaskStatus, WrongTaskState
from services.volunteers.tasks.models import tasks_store


class UnknownHoursEntry(Missing):
    """No ledger line with that id for this volunteer."""


@holding(tasks_store, lambda task_id, *_args, **_kwargs: task_id)
def check_in(task_id: str, volunteer_id: str, code: str, causation_id: str) -> Task:
    """Start the service once the resident's code matches."""
    task = tasks.assigned_task(task_id, volunteer_id)
    if task.status != TaskStatus.ACCEPTED:  # before the code: a wrong step is not a wrong guess
        raise WrongTaskState(f"a task that is {task.status.value} cannot be checked in")
    now = utcnow()
    _verify_code(task, code, now)
    tasks.save(task, task_rules.check_in(task, volunteer_id, now), causation_id)
    return task


@holding(tasks_store, lambda task_id, *_args, **_kwargs: task_id)
def check_out(
    task_id: str,
    volunteer_id: str,
    code: str,
    participant_ids: list[str],
    causation_id: str,
    people_served: int = 1,
) -> Task:
    """End the service once the resident's code matches; credit everyone who served."""
    task = tasks.assigned_task(task_id, volunteer_id)
    if task.status != TaskStatus.IN_SERVICE:
        raise WrongTaskState(f"a task that is {task.status.value} cannot be checked out; check in first")
    for participant in participant_ids:
        if participant != volunteer_id and not people.is_registered(participant):
            raise domain.NotAParticipant(f"no volunteer {participant}", field="participant_ids")
    members = None
    if task.team_id:
        team = organisation.find_team(task.team_id)
        members = list(team.member_ids) if team else []
    now = utcnow()
    _verify_code(task, code, now)
    events = domain.check_out(task, volunteer_id, now, participant_ids, members, people_served)
    tasks.save(task, events, causation_id)
    return task


def _verify_code(task: Task, code: str, now: datetime) -> None:
    """Refuse a wrong code (422 naming `code`), keeping the count of wrong attempts on the task."""
    check = domain.check_code(task, code, now)
    domain.record_code_check(task, check)
    if check.matched:
        return
    changes = {"code_attempts": task.code_attempts, "code_locked_until": task.code_locked_until}
    tasks_store.save(task.id, task.version, changes, [])
    task.version += 1
    left = domain.MAX_CODE_ATTEMPTS - check.attempts if check.locked_until is None else 0
    raise domain.WrongCode(
        f"the code does not match the one the resident was given ({left} attempts left)", field="code"
    )


# --- the ledger ------------------------------------------------------------------------------------
def credit(envelope: Envelope, data: contracts.TaskCompleted) -> None:
    """Credit every participant's hours to the ledger (once per task and volunteer)."""
    for participant in data.participants:
        entry = {
            "_id": f"{data.task_id}:{participant.volunteer_id}",
            "volunteer_id": participant.volunteer_id,
            "task_id": data.task_id,
            "request_id": data.request_id,
            "hours": participant.hours,
            "township": data.township,
            "category": data.category,
            "completed_at": data.completed_at,
        }
        with contextlib.suppress(DuplicateKeyError):  # credited already
            HoursEntry._get_collection().insert_one(entry)


def credits_of_request(request_id: str) -> list[dict[str, Any]]:
    """The credits (not corrections) a request's task earned, one per participant."""
    return list(HoursEntry._get_collection().find({"request_id": request_id, "kind": {"$ne": CORRECTION}}))


def ledger(volunteer_id: str) -> Ledger:
    """A volunteer's hours: each task with its corrections, and the total after corrections."""
    lines = list(HoursEntry._get_collection().find({"volunteer_id": volunteer_id}).sort([("_id", ASCENDING)]))
    return domain.ledger(volunteer_id, lines)


def correct_entry(
    volunteer_id: str,
    entry_id: str,
    new_hours: float,
    reason: str,
    principal: Principal,
    causation_id: str | None = None,
) -> LedgerCorrection:
    """Staff change a ledger line's hours; the change is a new, audited line (the ledger is append-only).

    The line carries its `audit.recorded` entry in its own outbox (docs/adr/0096): one insert writes
    both, so the trail holds the correction if and only if the ledger does.
    """
    collection = HoursEntry._get_collection()
    entry = collection.find_one({"_id": entry_id, "volunteer_id": volunteer_id})
    if entry is None or entry.get("kind") == CORRECTION:
        raise UnknownHoursEntry("no hours entry with that id for this volunteer")
    # One correction at a time per line, so `before` is always the hours the staff member saw.
    with locks.locked(f"hours:{entry_id}"):
        earlier = collection.find({"kind": CORRECTION, "corrects": entry_id})
        current = round(entry["hours"] + sum(line["hours"] for line in earlier), 2)
        correction = domain.correct(
            entry,
            current,
            hours=new_hours,
            reason=reason,
            by=principal.sub,
            staff_township=principal.township,
            now=utcnow(),
        )
        line = {
            "_id": f"{CORRECTION}:{new_id()}",
            "kind": CORRECTION,
            "corrects": entry_id,
            "volunteer_id": volunteer_id,
            "task_id": entry.get("task_id"),
            "request_id": entry.get("request_id"),
            "township": entry.get("township"),
            "category": entry.get("category"),
            "hours": correction.delta,
            "before": correction.before,
            "after": correction.after,
            "reason": correction.reason,
            "corrected_by": correction.corrected_by,
            "corrected_at": correction.corrected_at,
        }
        trail = audit.entry(
            principal,
            "hours.corrected",
            "volunteer",
            volunteer_id,
            correction.corrected_at,
            township=entry.get("township"),
            reason=correction.reason,
            entry_id=entry_id,
            correction_id=line["_id"],
            task_id=entry.get("task_id"),
            before=f"{correction.before:g}",
            after=f"{correction.after:g}",
        )
        event = make_event(
            trail,
            producer=SERVICE,
            correlation_id=entry.get("request_id") or entry_id,
            causation_id=causation_id,
            occurred_at=correction.corrected_at,
        )
        collection.insert_one({**line, "outbox": [event], "outbox_pending": True})
    return domain.ledger_correction(line)
