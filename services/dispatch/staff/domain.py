"""People in the loop: a dispatcher assigns by hand or reviews a request held for review.

Pure. A hand-picked offer still obeys eligibility (skills, activity, room, availability, never
someone already offered the request); only the place is the dispatcher's call.
"""

from __future__ import annotations

from datetime import datetime

from services.common import contracts
from services.common.domain import DomainError
from services.dispatch.engine.eligibility import Candidate, why_not
from services.dispatch.jobs.domain import WITH_PEOPLE, Job, JobStatus, NotAssignable, offer_to
from services.dispatch.policy.domain import Policy


def assign_by_hand(
    job: Job, candidate: Candidate, *, dispatcher: str, task_id: str, now: datetime, policy: Policy
) -> contracts.TaskOffered:
    """A dispatcher picks the volunteer or team; eligibility still holds (but not place)."""
    if job.status not in WITH_PEOPLE or job.open_attempt is not None:
        raise NotAssignable(f"a request whose dispatch is {job.status.value} is not waiting for a dispatcher")
    need = job.need(now)
    reason = why_not(
        candidate,
        category=need.category,
        skills=need.skills,
        township=candidate.township if not candidate.is_team else job.township,
        level="manual" if not candidate.is_team else "county" if candidate.county_wide else "township",
        window=need.window,
        tried=job.tried,
    )
    if reason is not None:
        raise NotAssignable(f"{candidate.id} cannot take this request: {reason}")
    return offer_to(job, candidate, "manual", task_id=task_id, now=now, policy=policy, by=dispatcher)


def review(
    job: Job, *, approve: bool, reason: str | None, reviewer: str, now: datetime
) -> contracts.RequestReviewed:
    """A dispatcher approves the request for dispatch, or rejects it with a reason the resident sees."""
    if job.status != JobStatus.IN_REVIEW:
        raise NotAssignable(f"a request whose dispatch is {job.status.value} is not waiting for review")
    if not approve and not (reason or "").strip():
        raise DomainError("say why the request is rejected", field="reason")
    job.review = {
        "decision": "approved" if approve else "rejected",
        "reason": reason,
        "by": reviewer,
        "at": now,
    }
    job.status = JobStatus.OFFERED if approve else JobStatus.REJECTED
    return contracts.RequestReviewed(
        request_id=job.id,
        decision="approved" if approve else "rejected",
        reason=reason,
        reviewer_id=reviewer,
        township=job.township,
        category=job.category,
    )
