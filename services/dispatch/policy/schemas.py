"""HTTP body and view of the dispatch policy; they double as its OpenAPI document."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, field_validator

from services.common.schemas import View
from services.dispatch.policy.domain import Policy
from services.dispatch.policy.usecases import PolicyRecord


class PolicyBody(Policy):
    """The whole policy (PUT replaces it)."""

    expected_version: int | None = Field(
        None, ge=0, description="refuse the change if someone changed it since"
    )
    reason: str | None = Field(
        None, min_length=1, max_length=500, description="why the policy changes (kept in the audit trail)"
    )

    @field_validator("reason", mode="after")
    @classmethod
    def _reason_is_said(cls, value: str | None) -> str | None:
        """A reason travels to the audit trail's database, which refuses NUL; blanks say nothing."""
        if value is None:
            return None
        if "\x00" in value:
            raise ValueError("must not contain the NUL character (\\u0000)")
        if not value.strip():
            raise ValueError("say why, or leave the reason out")
        return value.strip()


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
