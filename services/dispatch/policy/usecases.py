"""Reading and replacing the dispatch policy; every decision reads it afresh."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.common import locks
from services.common.ids import utcnow
from services.common.store import ConcurrencyConflict
from services.dispatch.policy.domain import DEFAULT_POLICY, Policy
from services.dispatch.policy.models import policy_store

POLICY_ID = "current"


@dataclass(frozen=True)
class PolicyRecord:
    """The policy in force, its version (0: the default, never changed) and who changed it last."""

    policy: Policy
    version: int
    updated_by: str | None = None
    updated_at: datetime | None = None


def policy_record() -> PolicyRecord:
    """The policy in force, with its version and last change."""
    document = policy_store.get(POLICY_ID)
    if document is None:
        return PolicyRecord(DEFAULT_POLICY, 0)
    return PolicyRecord(
        Policy.model_validate(document["policy"]),
        document.get("version", 1),
        document.get("updated_by"),
        document.get("updated_at"),
    )


def current_policy() -> Policy:
    """The policy in force, read for every decision: a change applies from the very next one."""
    return policy_record().policy


def save_policy(policy: Policy, by: str, expected_version: int | None) -> PolicyRecord:
    """Replace the policy (optionally only if still at `expected_version`); return the new record."""
    with locks.locked(f"policy:{POLICY_ID}"):
        version = policy_record().version
        if expected_version is not None and expected_version != version:
            raise ConcurrencyConflict(f"the policy is at version {version}, not {expected_version}")
        saved = PolicyRecord(policy, version + 1, by, utcnow())
        document = {
            "policy": policy.model_dump(),
            "version": saved.version,
            "updated_by": by,
            "updated_at": saved.updated_at,
        }
        policy_store.put(POLICY_ID, document)
    return saved
