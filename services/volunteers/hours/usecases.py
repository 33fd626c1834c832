"""Use cases of volunteer hours: coded check-in and check-out, the ledger, corrections, exports."""

from __future__ import annotations

import csv
import io
from typing import Any

from pymongo import ASCENDING

from services.common import locks
from services.common.auth import Principal
from services.common.ids import isoformat, new_id, utcnow
from services.common.store import holding, to_state
from services.volunteers.hours import domain as hours
from services.volunteers.tasks import domain, usecases
from services.volunteers.tasks.domain import Task
from services.volunteers.tasks.models import HoursEntry, tasks_store

CORRECTION = "correction"


def accept_task(task_id: str, volunteer_id: str, causation_id: str) -> Task:
    """Accept an offered task; a fresh service code goes to the resident in `task.accepted`."""
    return usecases.act_on_task(
        task_id, volunteer_id, domain.accept, causation_id, service_code=hours.new_service_code()
    )


@holding(tasks_store, lambda task_id, *_args, **_kwargs: task_id)
def check_in(task_id: str, volunteer_id: str, code: str, causation_id: str) -> Task:
    """Start the service once the resident's code matches."""
    task = _assigned_task(task_id, volunteer_id)
    if task.status != domain.TaskStatus.ACCEPTED:  # before the code: a wrong step is not a wrong guess
        raise domain.WrongTaskState(f"a task that is {task.status.value} cannot be checked in")
    now = utcnow()
    _verify_code(task, code, now)
    events = domain.check_in(task, volunteer_id, now)
    tasks_store.save(
        task.id, task.version, to_state(task), usecases._envelopes(events, task.request_id, causation_id)
    )
    return task


@holding(tasks_store, lambda task_id, *_args, **_kwargs: task_id)
def check_out(
    task_id: str, volunteer_id: str, code: str, participant_ids: list[str], causation_id: str
) -> Task:
    """End the service once the resident's code matches; credit everyone who served."""
    task = _assigned_task(task_id, volunteer_id)
    if task.status != domain.TaskStatus.IN_SERVICE:
        raise domain.WrongTaskState(
            f"a task that is {task.status.value} cannot be checked out; check in first"
        )
    for participant in participant_ids:
        if participant != volunteer_id and usecases.volunteers_store.get(participant) is None:
            raise hours.NotAParticipant(f"no volunteer {participant}", field="participant_ids")
    members = None
    if task.team_id:
        team = usecases.teams_store.get(task.team_id)
        members = list(team.get("member_ids", [])) if team else []
    now = utcnow()
    _verify_code(task, code, now)
    events = hours.check_out(task, volunteer_id, now, participant_ids, members)
    tasks_store.save(
        task.id, task.version, to_state(task), usecases._envelopes(events, task.request_id, causation_id)
    )
    return task


def _assigned_task(task_id: str, volunteer_id: str) -> Task:
    task = usecases.get_task(task_id)
    if task.volunteer_id != volunteer_id:
        raise usecases.NotFoundHere("no task with that id in your inbox")
    return task


def _verify_code(task: Task, code: str, now: Any) -> None:
    """Refuse a wrong code (422 naming `code`), keeping the count of wrong attempts on the task."""
    check = hours.check_code(task, code, now)
    hours.record_code_check(task, check)
    if check.matched:
        return
    changes = {"code_attempts": task.code_attempts, "code_locked_until": task.code_locked_until}
    tasks_store.save(task.id, task.version, changes, [])
    task.version += 1
    left = hours.MAX_CODE_ATTEMPTS - check.attempts if check.locked_until is None else 0
    raise hours.WrongCode(
        f"the code does not match the one the resident was given ({left} attempts left)", field="code"
    )


# --- the ledger ------------------------------------------------------------------------------------
def ledger_lines(volunteer_id: str) -> list[dict[str, Any]]:
    """Every line of a volunteer's ledger: credits from tasks and staff corrections."""
    return list(HoursEntry._get_collection().find({"volunteer_id": volunteer_id}).sort([("_id", ASCENDING)]))


def ledger(volunteer_id: str) -> dict[str, Any]:
    """A volunteer's hours: each task with its corrections, and the total after corrections."""
    lines = ledger_lines(volunteer_id)
    credits = [line for line in lines if line.get("kind", "credit") != CORRECTION]
    corrections: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        if line.get("kind") == CORRECTION:
            corrections.setdefault(line["corrects"], []).append(line)
    entries = []
    for credit in sorted(credits, key=lambda line: line.get("completed_at"), reverse=True):
        fixes = corrections.get(credit["_id"], [])
        entries.append(
            {
                "id": credit["_id"],
                **{
                    key: credit.get(key)
                    for key in ("task_id", "request_id", "township", "category", "completed_at")
                },
                "credited_hours": credit["hours"],
                "hours": round(credit["hours"] + sum(fix["hours"] for fix in fixes), 2),
                "corrections": [_correction_view(fix) for fix in fixes],
            }
        )
    return {
        "volunteer_id": volunteer_id,
        "total_hours": round(sum(line["hours"] for line in lines), 2),
        "tasks": len(credits),
        "entries": entries,
    }


def _correction_view(line: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": line["_id"],
        "before": line["before"],
        "after": line["after"],
        "delta": line["hours"],
        "reason": line["reason"],
        "corrected_by": line["corrected_by"],
        "corrected_at": line["corrected_at"],
    }


def correct_entry(
    volunteer_id: str, entry_id: str, new_hours: float, reason: str, principal: Principal
) -> dict[str, Any]:
    """Staff change a ledger line's hours; the change is a new, audited line (the ledger is append-only)."""
    collection = HoursEntry._get_collection()
    entry = collection.find_one({"_id": entry_id, "volunteer_id": volunteer_id})
    if entry is None or entry.get("kind") == CORRECTION:
        raise usecases.NotFoundHere("no hours entry with that id for this volunteer")
    # One correction at a time per line, so `before` is always the hours the staff member saw.
    with locks.locked(f"hours:{entry_id}"):
        earlier = collection.find({"kind": CORRECTION, "corrects": entry_id})
        current = round(entry["hours"] + sum(line["hours"] for line in earlier), 2)
        correction = hours.correct(
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
        collection.insert_one(line)
    return _correction_view(line)


# --- exports ---------------------------------------------------------------------------------------
CSV_COLUMNS = (
    "date",
    "task_id",
    "request_id",
    "township",
    "category",
    "credited_hours",
    "hours",
    "corrections",
)


def ledger_csv(volunteer_id: str) -> str:
    """The ledger as CSV, one task a line, with the hours after corrections and a total line."""
    record = ledger(volunteer_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in reversed(record["entries"]):
        writer.writerow(
            [
                isoformat(entry["completed_at"]) if entry["completed_at"] else "",
                entry["task_id"],
                entry["request_id"],
                entry["township"],
                entry["category"],
                f"{entry['credited_hours']:g}",
                f"{entry['hours']:g}",
                "; ".join(
                    f"{c['before']:g}→{c['after']:g} by {c['corrected_by']}: {c['reason']}"
                    for c in entry["corrections"]
                ),
            ]
        )
    writer.writerow(["total", "", "", "", "", "", f"{record['total_hours']:g}", ""])
    return out.getvalue()
