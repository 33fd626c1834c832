"""HTTP entrypoints of volunteer hours: check-out, corrections, CSV and certificate exports."""

from __future__ import annotations

from typing import Any

from flask import Response, g
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field

from services.common.auth import STAFF, Role, require
from services.common.errors import NotFound
from services.common.ids import utcnow
from services.common.schemas import ERROR_RESPONSES, StrictBody
from services.volunteers.hours import certificate
from services.volunteers.hours import usecases as hours_service
from services.volunteers.tasks import usecases
from services.volunteers.tasks.schemas import TaskPath, VolunteerPath

COMMON = {"abp_security": [{"bearer": []}], "abp_responses": ERROR_RESPONSES}
hours_tasks_api = APIBlueprint(
    "hours_tasks", __name__, url_prefix="/api/v1/tasks", abp_tags=[Tag(name="hours")], **COMMON
)
hours_records_api = APIBlueprint(
    "hours_records", __name__, url_prefix="/api/v1/volunteers", abp_tags=[Tag(name="hours")], **COMMON
)
HOURS_BLUEPRINTS = (hours_tasks_api, hours_records_api)


class CodeBody(StrictBody):
    code: str = Field(min_length=4, max_length=12, description="the code the resident reads out")


class CheckOutBody(CodeBody):
    participant_ids: list[str] = Field(
        default_factory=list, max_length=50, description="volunteers who served alongside (team tasks)"
    )
    note: str | None = Field(None, max_length=500)


class EntryPath(BaseModel):
    volunteer_id: str = Field(min_length=1, max_length=64)
    entry_id: str = Field(min_length=1, max_length=140)


class CorrectionBody(StrictBody):
    hours: float = Field(ge=0, le=24, description="the right number of hours, in quarter hours")
    reason: str = Field(min_length=1, max_length=500)


@hours_tasks_api.post("/<task_id>/check-out")
def check_out_task(path: TaskPath, body: CheckOutBody) -> dict[str, Any]:
    """End the service with the resident's code; hours = check-out − check-in, for every participant."""
    from services.volunteers.tasks.api import present_task

    principal = require(Role.VOLUNTEER)
    task = hours_service.check_out(path.task_id, principal.sub, body.code, body.participant_ids, g.request_id)
    return present_task(task)


@hours_records_api.post("/<volunteer_id>/hours/<entry_id>/corrections")
def correct_hours(path: EntryPath, body: CorrectionBody) -> tuple[dict[str, Any], int]:
    """Correct a ledger line (staff; township staff for their township); audited, never overwritten."""
    principal = require(*STAFF)
    return hours_service.correct_entry(
        path.volunteer_id, path.entry_id, body.hours, body.reason, principal
    ), 201


@hours_records_api.get("/<volunteer_id>/hours.csv")
def hours_csv(path: VolunteerPath) -> Response:
    """The hours ledger as CSV (themselves, or staff)."""
    _self_or_staff(path.volunteer_id)
    usecases.get_volunteer(path.volunteer_id)
    body = "\ufeff" + hours_service.ledger_csv(path.volunteer_id)  # the BOM makes spreadsheets read UTF-8
    return Response(
        body.encode(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="hours-{path.volunteer_id}.csv"'},
    )


@hours_records_api.get("/<volunteer_id>/certificate.pdf")
def hours_certificate(path: VolunteerPath) -> Response:
    """A printable certificate of the volunteer's hours (themselves, or staff)."""
    _self_or_staff(path.volunteer_id)
    volunteer = usecases.get_volunteer(path.volunteer_id)
    record = hours_service.ledger(path.volunteer_id)
    pdf = certificate.render(
        {"id": volunteer.id, "name": volunteer.name, "township": volunteer.township}, record, utcnow()
    )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="certificate-{path.volunteer_id}.pdf"'},
    )


def _self_or_staff(volunteer_id: str) -> None:
    principal = require()
    if principal.sub != volunteer_id and not principal.is_staff:
        raise NotFound("no volunteer with that id")
