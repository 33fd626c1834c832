"""Bodies, paths and views of the hours API (JSON, CSV and PDF); they double as its OpenAPI document."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from services.common.ids import isoformat
from services.common.schemas import StrictBody, View
from services.volunteers.hours.domain import Ledger, LedgerCorrection


class CodeBody(StrictBody):
    code: str = Field(min_length=4, max_length=12, description="the code the resident reads out")


class CheckOutBody(CodeBody):
    participant_ids: list[str] = Field(
        default_factory=list, max_length=50, description="volunteers who served alongside (team tasks)"
    )
    note: str | None = Field(None, max_length=500)
    people_served: int = Field(
        1, ge=0, le=100_000, description="people served, or a lecture's audience (服务人次); 1 when left out"
    )


class EntryPath(BaseModel):
    volunteer_id: str = Field(min_length=1, max_length=64)
    entry_id: str = Field(min_length=1, max_length=140)


class CorrectionBody(StrictBody):
    hours: float = Field(ge=0, le=24, description="the right number of hours, in quarter hours")
    reason: str = Field(min_length=1, max_length=500)


class CorrectionView(View):
    """A staff correction of a ledger line: from what to what, by how much, who and why."""

    id: str
    before: float
    after: float
    delta: float
    reason: str
    corrected_by: str
    corrected_at: datetime


class LedgerEntryView(View):
    """One task's credit; `hours` counts its corrections, `credited_hours` does not."""

    id: str
    task_id: str
    request_id: str
    township: str | None
    category: str | None
    completed_at: datetime | None
    credited_hours: float
    hours: float
    corrections: list[CorrectionView]


class LedgerView(View):
    """A volunteer's hours: each task newest first, and the total after corrections."""

    volunteer_id: str
    total_hours: float
    tasks: int
    entries: list[LedgerEntryView]


def correction_view(correction: LedgerCorrection) -> CorrectionView:
    """A correction line as staff and the volunteer see it."""
    return CorrectionView(
        id=correction.id,
        before=correction.before,
        after=correction.after,
        delta=correction.delta,
        reason=correction.reason,
        corrected_by=correction.corrected_by,
        corrected_at=correction.corrected_at,
    )


def ledger_view(ledger: Ledger) -> LedgerView:
    """The ledger as JSON."""
    return LedgerView(
        volunteer_id=ledger.volunteer_id,
        total_hours=ledger.total_hours,
        tasks=ledger.tasks,
        entries=[
            LedgerEntryView(
                id=entry.id,
                task_id=entry.task_id,
                request_id=entry.request_id,
                township=entry.township,
                category=entry.category,
                completed_at=entry.completed_at,
                credited_hours=entry.credited_hours,
                hours=entry.hours,
                corrections=[correction_view(c) for c in entry.corrections],
            )
            for entry in ledger.entries
        ],
    )


def _file(media_type: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
    }


CSV = "text/csv"
PDF = "application/pdf"
LEDGER_CSV = _file(CSV, "The ledger, one task a line oldest first, then a total line (UTF-8 with a BOM)")
CERTIFICATE_PDF = _file(PDF, "A printable certificate of the volunteer's hours (志愿服务证明)")
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


def ledger_csv(ledger: Ledger) -> str:
    """The ledger as CSV, one task a line, with the hours after corrections and a total line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in reversed(ledger.entries):
        writer.writerow(
            [
                isoformat(entry.completed_at) if entry.completed_at else "",
                entry.task_id,
                entry.request_id,
                entry.township,
                entry.category,
                f"{entry.credited_hours:g}",
                f"{entry.hours:g}",
                "; ".join(
                    f"{c.before:g}→{c.after:g} by {c.corrected_by}: {c.reason}" for c in entry.corrections
                ),
            ]
        )
    writer.writerow(["total", "", "", "", "", "", f"{ledger.total_hours:g}", ""])
    return out.getvalue()
