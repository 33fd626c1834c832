"""The audit trail's query and views; they double as its OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from services.common.paging import PageQuery
from services.common.schemas import View


class AuditQuery(PageQuery):
    township: str | None = Field(None, max_length=20, description="one township's entries")
    actor: str | None = Field(None, max_length=128, description="one person's actions (their token subject)")
    subject_id: str | None = Field(None, max_length=128, description="the actions on one record")


class AuditEntryView(View):
    """One staff action: who did what to which record, when, and why."""

    id: str
    actor: str
    actor_role: str
    action: str = Field(
        description="e.g. dispatch.assigned_by_hand, dispatch.reviewed, followup.resolved, account.changed"
    )
    subject_type: str
    subject_id: str
    township: str | None
    reason: str | None
    details: dict[str, str]
    at: datetime
    producer: str | None


class AuditPage(View):
    items: list[AuditEntryView]
    next_before: str | None


def entry_view(document: dict[str, Any]) -> AuditEntryView:
    """The view of a stored entry."""
    return AuditEntryView(
        id=document["_id"],
        actor=document["actor"],
        actor_role=document["actor_role"],
        action=document["action"],
        subject_type=document["subject_type"],
        subject_id=document["subject_id"],
        township=document.get("township"),
        reason=document.get("reason"),
        details=document.get("details") or {},
        at=document["at"],
        producer=document.get("producer"),
    )
