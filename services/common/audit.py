"""Audit entries of staff actions (docs/adr/0096): built where the action is decided, travelling in the
same outbox as the action's own events, kept by the accounts service."""

from __future__ import annotations

from datetime import datetime

from services.common import contracts
from services.common.auth import Principal


def entry(
    principal: Principal | str,
    action: str,
    subject_type: str,
    subject_id: str,
    at: datetime,
    *,
    township: str | None = None,
    reason: str | None = None,
    role: str = "dispatcher",
    **details: str | None,
) -> contracts.AuditRecorded:
    """The audit event of one staff action (`principal` may be just the actor's subject)."""
    actor, actor_role = (
        (principal.sub, principal.role.value) if isinstance(principal, Principal) else (principal, role)
    )
    return contracts.AuditRecorded(
        actor=actor,
        actor_role=actor_role,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        township=township,
        reason=reason,
        details={key: str(value) for key, value in details.items() if value is not None},
        at=at,
    )
