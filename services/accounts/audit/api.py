"""HTTP entrypoint of the audit trail: admins read it (township admins, their township's entries)."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from services.accounts.audit import usecases
from services.accounts.audit.schemas import AuditPage, AuditQuery, entry_view
from services.common.auth import Role, require, township_scope
from services.common.schemas import ERROR_RESPONSES

audit_api = APIBlueprint(
    "audit",
    __name__,
    url_prefix="/api/v1/audit",
    abp_tags=[Tag(name="audit", description="操作留痕")],
    abp_security=[{"bearer": []}],
    abp_responses=ERROR_RESPONSES,
)


@audit_api.get("", responses={200: AuditPage})
def list_audit(query: AuditQuery) -> AuditPage:
    """Staff actions on others' records, newest first: by township, by actor, or on one record."""
    principal = require(Role.ADMIN)
    township = township_scope(principal, query.township, "audit entries")
    found, cursor = usecases.list_entries(
        township=township,
        actor=query.actor,
        subject_id=query.subject_id,
        limit=query.limit,
        before=query.before,
    )
    return AuditPage(
        items=[entry_view(document) for document in found],
        next_before=cursor,
    )
