"""Builders of valid event data for tests: one call per catalogue event, overridable by keyword."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.common import contracts
from services.common.ids import new_id

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def _build(model: type, defaults: dict[str, Any], overrides: dict[str, Any]) -> Any:
    return model(**{**defaults, **overrides})


def request_submitted(**overrides: Any) -> contracts.RequestSubmitted:
    return _build(
        contracts.RequestSubmitted,
        {
            "request_id": new_id(),
            "code": "GT-20261129-0001",
            "resident_id": "resident-1",
            "category": "elder_care",
            "skills_required": ["elder_care"],
            "title": "帮忙买菜",
            "description": "腿脚不便",
            "township": "平湖镇",
            "village": "平湖村",
            "submitted_at": NOW,
        },
        overrides,
    )


def request_cancelled(**overrides: Any) -> contracts.RequestCancelled:
    return _build(
        contracts.RequestCancelled,
        {
            "request_id": new_id(),
            "resident_id": "resident-1",
            "township": "平湖镇",
            "category": "elder_care",
            "cancelled_by": "resident",
            "cancelled_at": NOW,
        },
        overrides,
    )


def request_closed(**overrides: Any) -> contracts.RequestClosed:
    return _build(
        contracts.RequestClosed,
        {
            "request_id": new_id(),
            "township": "平湖镇",
            "category": "elder_care",
            "outcome": "rated",
            "closed_at": NOW,
        },
        overrides,
    )


def request_reviewed(**overrides: Any) -> contracts.RequestReviewed:
    return _build(
        contracts.RequestReviewed,
        {
            "request_id": new_id(),
            "decision": "approved",
            "reviewer_id": "dispatcher-1",
            "township": "平湖镇",
            "category": "elder_care",
        },
        overrides,
    )


def task_offered(**overrides: Any) -> contracts.TaskOffered:
    return _build(
        contracts.TaskOffered,
        {
            "task_id": new_id(),
            "request_id": new_id(),
            "attempt": 1,
            "volunteer_id": "volunteer-1",
            "level": "township",
            "deadline": NOW + timedelta(hours=2),
            "resident_id": "resident-1",
            "category": "elder_care",
            "township": "平湖镇",
            "village": "平湖村",
            "title": "帮忙买菜",
            "description": "腿脚不便",
            "offered_at": NOW,
        },
        overrides,
    )


def request_pooled(**overrides: Any) -> contracts.RequestPooled:
    return _build(
        contracts.RequestPooled,
        {
            "request_id": new_id(),
            "category": "elder_care",
            "skills_required": ["elder_care"],
            "township": "平湖镇",
            "village": "平湖村",
            "title": "帮忙买菜",
            "pooled_at": NOW,
        },
        overrides,
    )


def request_escalated(**overrides: Any) -> contracts.RequestEscalated:
    return _build(
        contracts.RequestEscalated,
        {
            "request_id": new_id(),
            "township": "平湖镇",
            "category": "elder_care",
            "reason": "nobody left",
            "level": "county",
            "escalated_at": NOW,
        },
        overrides,
    )


def task_accepted(**overrides: Any) -> contracts.TaskAccepted:
    return _build(
        contracts.TaskAccepted,
        {
            "task_id": new_id(),
            "request_id": new_id(),
            "volunteer_id": "volunteer-1",
            "township": "平湖镇",
            "category": "elder_care",
            "accepted_at": NOW,
        },
        overrides,
    )


def task_declined(**overrides: Any) -> contracts.TaskDeclined:
    return _build(
        contracts.TaskDeclined,
        {
            "task_id": new_id(),
            "request_id": new_id(),
            "volunteer_id": "volunteer-1",
            "reason": "busy",
            "township": "平湖镇",
            "category": "elder_care",
            "declined_at": NOW,
        },
        overrides,
    )


def task_checked_in(**overrides: Any) -> contracts.TaskCheckedIn:
    return _build(
        contracts.TaskCheckedIn,
        {
            "task_id": new_id(),
            "request_id": new_id(),
            "volunteer_id": "volunteer-1",
            "township": "平湖镇",
            "category": "elder_care",
            "checked_in_at": NOW,
        },
        overrides,
    )


def task_completed(**overrides: Any) -> contracts.TaskCompleted:
    volunteer = overrides.get("volunteer_id", "volunteer-1")
    hours = overrides.get("hours", 1.5)
    return _build(
        contracts.TaskCompleted,
        {
            "task_id": new_id(),
            "request_id": new_id(),
            "volunteer_id": volunteer,
            "participants": [contracts.Participant(volunteer_id=volunteer, hours=hours)],
            "hours": hours,
            "resident_id": "resident-1",
            "township": "平湖镇",
            "category": "elder_care",
            "completed_at": NOW,
        },
        overrides,
    )


def volunteer_registered(**overrides: Any) -> contracts.VolunteerRegistered:
    return _build(
        contracts.VolunteerRegistered,
        {
            "volunteer_id": new_id(),
            "name": "林志明",
            "township": "平湖镇",
            "skills": ["elder_care"],
            "profile_version": 1,
        },
        overrides,
    )


def volunteer_updated(**overrides: Any) -> contracts.VolunteerUpdated:
    return _build(
        contracts.VolunteerUpdated,
        {
            "volunteer_id": new_id(),
            "name": "林志明",
            "township": "平湖镇",
            "skills": ["elder_care"],
            "profile_version": 2,
        },
        overrides,
    )


def team_updated(**overrides: Any) -> contracts.TeamUpdated:
    return _build(
        contracts.TeamUpdated,
        {
            "team_id": new_id(),
            "name": "平湖镇助老服务分队",
            "kind": "sub_team",
            "profile_version": 1,
        },
        overrides,
    )


def station_updated(**overrides: Any) -> contracts.StationUpdated:
    return _build(
        contracts.StationUpdated,
        {
            "station_id": new_id(),
            "code": "S03001",
            "name": "平湖镇平湖村新时代文明实践站",
            "township": "平湖镇",
            "kind": "village",
            "village": "平湖村",
            "station_version": 1,
        },
        overrides,
    )


def pairing_visit_due(**overrides: Any) -> contracts.PairingVisitDue:
    return _build(
        contracts.PairingVisitDue,
        {
            "pairing_id": new_id(),
            "visit_id": new_id(),
            "beneficiary_id": "beneficiary-1",
            "volunteer_ids": ["volunteer-1"],
            "township": "平湖镇",
            "village": "平湖村",
            "due_at": NOW,
        },
        overrides,
    )


def request_rated(**overrides: Any) -> contracts.RequestRated:
    return _build(
        contracts.RequestRated,
        {
            "rating_id": new_id(),
            "request_id": new_id(),
            "score": 5,
            "resident_id": "resident-1",
            "volunteer_id": "volunteer-1",
            "township": "平湖镇",
            "category": "elder_care",
            "rated_at": NOW,
        },
        overrides,
    )


def rating_flagged(**overrides: Any) -> contracts.RatingFlagged:
    return _build(
        contracts.RatingFlagged,
        {
            "rating_id": new_id(),
            "request_id": new_id(),
            "score": 1,
            "township": "平湖镇",
            "category": "elder_care",
            "reason": "rated 1 of 5",
        },
        overrides,
    )


def followup_resolved(**overrides: Any) -> contracts.FollowupResolved:
    return _build(
        contracts.FollowupResolved,
        {
            "followup_id": new_id(),
            "request_id": new_id(),
            "outcome": "apologised and re-served",
            "township": "平湖镇",
            "resolved_at": NOW,
        },
        overrides,
    )


def audit_recorded(**overrides: Any) -> contracts.AuditRecorded:
    return _build(
        contracts.AuditRecorded,
        {
            "actor": "dispatcher-1",
            "actor_role": "dispatcher",
            "action": "dispatch.assigned_by_hand",
            "subject_type": "request",
            "subject_id": new_id(),
            "township": "平湖镇",
            "reason": None,
            "details": {"volunteer_id": "vol-1"},
            "at": NOW,
        },
        overrides,
    )


BUILDERS = {
    "audit.recorded": audit_recorded,
    "request.submitted": request_submitted,
    "request.cancelled": request_cancelled,
    "request.closed": request_closed,
    "request.reviewed": request_reviewed,
    "task.offered": task_offered,
    "request.pooled": request_pooled,
    "request.escalated": request_escalated,
    "task.accepted": task_accepted,
    "task.declined": task_declined,
    "task.checked_in": task_checked_in,
    "task.completed": task_completed,
    "volunteer.registered": volunteer_registered,
    "volunteer.updated": volunteer_updated,
    "team.updated": team_updated,
    "station.updated": station_updated,
    "pairing.visit_due": pairing_visit_due,
    "request.rated": request_rated,
    "rating.flagged": rating_flagged,
    "followup.resolved": followup_resolved,
}
