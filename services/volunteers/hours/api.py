"""HTTP entrypoints of hours: coded check-in and check-out, the ledger, corrections, CSV and certificate."""

from __future__ import annotations

from flask import Response, g
from flask_openapi3 import APIBlueprint, Tag

from services.common.auth import STAFF, Role, require
from services.common.ids import utcnow
from services.common.schemas import ERROR_RESPONSES, Problem
from services.volunteers.hours import certificate, usecases
from services.volunteers.hours.schemas import (
    CERTIFICATE_PDF,
    CSV,
    LEDGER_CSV,
    PDF,
    CheckOutBody,
    CodeBody,
    CorrectionBody,
    CorrectionView,
    EntryPath,
    LedgerView,
    correction_view,
    ledger_csv,
    ledger_view,
)
from services.volunteers.people.api import self_or_staff
from services.volunteers.people.schemas import VolunteerPath
from services.volunteers.tasks.schemas import TaskPath, TaskView, task_view

COMMON = {"abp_security": [{"bearer": []}], "abp_responses": ERROR_RESPONSES}
TAGS = [Tag(name="hours")]
hours_tasks_api = APIBlueprint("hours_tasks", __name__, url_prefix="/api/v1/tasks", abp_tags=TAGS, **COMMON)
hours_records_api = APIBlueprint(
    "hours_records", __name__, url_prefix="/api/v1/volunteers", abp_tags=TAGS, **COMMON
)
# A step the task's state refuses, or code entry locked after too many wrong codes.
CONFLICT = {409: Problem}


@hours_tasks_api.post("/<task_id>/check-in", responses={200: TaskView, **CONFLICT})
def check_in_task(path: TaskPath, body: CodeBody) -> TaskView:
    """Arrive at the resident's and start the service; the resident reads out their code."""
    principal = require(Role.VOLUNTEER)
    return task_view(usecases.check_in(path.task_id, principal.sub, body.code, g.request_id))


@hours_tasks_api.post("/<task_id>/check-out", responses={200: TaskView, **CONFLICT})
def check_out_task(path: TaskPath, body: CheckOutBody) -> TaskView:
    """End the service with the resident's code; hours = check-out − check-in, for every participant."""
    principal = require(Role.VOLUNTEER)
    task = usecases.check_out(
        path.task_id, principal.sub, body.code, body.participant_ids, g.request_id, body.people_served
    )
    return task_view(task)


@hours_tasks_api.post("/<task_id>/complete", responses={200: TaskView, **CONFLICT})
def complete_task(path: TaskPath, body: CheckOutBody) -> TaskView:
    """Finish the service: the same as check-out (hours come from the coded check-in and check-out)."""
    principal = require(Role.VOLUNTEER)
    task = usecases.check_out(
        path.task_id, principal.sub, body.code, body.participant_ids, g.request_id, body.people_served
    )
    return task_view(task)


@hours_records_api.get("/<volunteer_id>/hours", responses={200: LedgerView})
def volunteer_hours(path: VolunteerPath) -> LedgerView:
    """A volunteer's hours ledger (themselves, or staff covering their township)."""
    self_or_staff(path.volunteer_id)
    return ledger_view(usecases.ledger(path.volunteer_id))


@hours_records_api.post(
    "/<volunteer_id>/hours/<entry_id>/corrections", responses={201: CorrectionView, **CONFLICT}
)
def correct_hours(path: EntryPath, body: CorrectionBody) -> tuple[CorrectionView, int]:
    """Correct a ledger line (staff; township staff for their township); audited, never overwritten."""
    principal = require(*STAFF)
    correction = usecases.correct_entry(
        path.volunteer_id, path.entry_id, body.hours, body.reason, principal, g.request_id
    )
    return correction_view(correction), 201


@hours_records_api.get("/<volunteer_id>/hours.csv", responses={200: LEDGER_CSV})
def hours_csv(path: VolunteerPath) -> Response:
    """The hours ledger as CSV (themselves, or staff covering their township)."""
    self_or_staff(path.volunteer_id)
    body = "\ufeff" + ledger_csv(usecases.ledger(path.volunteer_id))  # the BOM makes spreadsheets read UTF-8
    return Response(
        body.encode(),
        mimetype=CSV,
        headers={"Content-Disposition": f'attachment; filename="hours-{path.volunteer_id}.csv"'},
    )


@hours_records_api.get("/<volunteer_id>/certificate.pdf", responses={200: CERTIFICATE_PDF})
def hours_certificate(path: VolunteerPath) -> Response:
    """A printable certificate of the volunteer's hours (themselves, or staff covering their township)."""
    _, volunteer = self_or_staff(path.volunteer_id)
    pdf = certificate.render(volunteer, usecases.ledger(path.volunteer_id), utcnow())
    return Response(
        pdf,
        mimetype=PDF,
        headers={"Content-Disposition": f'inline; filename="certificate-{path.volunteer_id}.pdf"'},
    )
