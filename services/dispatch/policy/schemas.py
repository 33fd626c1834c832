"""HTTP body and view of the dispatch policy; they double as its OpenAPI document."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from services.common.schemas import View
from services.dispatch.policy.domain import Policy
from services.dispatch.policy.usecases import PolicyRecord


class PolicyBody(Policy):
    """The whole policy (PUT replaces it)."""

    expected_version: int | None = Field(
        None, ge=0, description="refuse the change if someone changed it since"
    )


class PolicyView(View):
    """The policy in force; version 0 is the default nobody has changed yet."""

    version: int
    updated_by: str | None = None
    updated_at: datetime | None = None
    policy: Policy


def policy_view(record: PolicyRecord) -> PolicyView:
    """The policy as the API shows it."""
    return PolicyView(
        version=record.version,
        updated_by=record.updated_by,
        updated_at=record.updated_at,
        policy=record.policy,
    )
