"""Reading and replacing the dispatch policy; every decision reads it afresh."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.common import audit, locks
from services.common.events import make_event
from services.common.ids import utcnow
from services.common.store import ConcurrencyConflict
from services.dispatch.policy.domain import DEFAULT_POLICY, Policy
from services.dispatch.policy.models import PolicyDocument

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
    document = PolicyDocument._get_collection().find_one({"_id": POLICY_ID})
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


def save_policy(
    policy: Policy,
    by: str,
    expected_version: int | None,
    *,
    reason: str | None = None,
    role: str = "admin",
    causation_id: str | None = None,
) -> PolicyRecord:
    """Replace the policy (optionally only if still at `expected_version`); return the new record.

    The audit entry of the change (who, what, when, why: docs/adr/0096) goes into the policy
    document's own outbox in the same update, so it exists if and only if the change does.
    """
    collection = PolicyDocument._get_collection()
    with locks.locked(f"policy:{POLICY_ID}"):
        before = policy_record()
        version = before.version
        if expected_version is not None and expected_version != version:
            raise ConcurrencyConflict(f"the policy is at version {version}, not {expected_version}")
        saved = PolicyRecord(policy, version + 1, by, utcnow())
        old, new = before.policy.model_dump(mode="json"), policy.model_dump(mode="json")
        trail = audit.entry(
            by,
            "dispatch.policy_changed",
            "dispatch_policy",
            POLICY_ID,
            saved.updated_at,
            reason=reason,
            role=role,
            version_before=str(version),
            version_after=str(saved.version),
            changed=",".join(sorted(key for key in new if old.get(key) != new[key])) or "-",
        )
        event = make_event(
            trail,
            producer="dispatch",
            correlation_id=f"policy:{saved.version}",
            causation_id=causation_id,
            occurred_at=saved.updated_at,
        )
        document = {
            "policy": policy.model_dump(),
            "version": saved.version,
            "updated_by": by,
            "updated_at": saved.updated_at,
            "outbox_pending": True,
        }
        # $set, not a replacement: events of an earlier change may still wait in the outbox.
        collection.update_one({"_id": POLICY_ID}, {"$set": document, "$push": {"outbox": event}}, upsert=True)
    return saved
