"""Offer deadlines and the batch assigner: periodic jobs of the dispatch worker.

A deadline is the `next_deadline` field of the job itself, so it survives any restart: a
sweep finds jobs whose deadline has passed and handles each under the job's lease, re-reading
it first. With several workers sweeping at once, the lease (an insert-unique document, ADR 0005)
lets one in, and the others find the offer no longer open: each deadline fires exactly once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from services.common import contracts, locks
from services.common.ids import as_utc, new_id, utcnow
from services.common.logs import get_logger
from services.common.store import holding
from services.dispatch import metrics
from services.dispatch.candidates import usecases as candidates
from services.dispatch.engine import batch, cascade
from services.dispatch.jobs import domain
from services.dispatch.jobs import usecases as jobs
from services.dispatch.jobs.models import job_from_document, jobs_store
from services.dispatch.policy.domain import Policy
from services.dispatch.policy.usecases import current_policy

log = get_logger(__name__)
SWEEP_LIMIT = 200


def due_job_ids(now: datetime) -> list[str]:
    """Jobs whose open offer has passed its deadline (and the policy's grace).

    Only jobs with an offer running are `offered`: the equality selects the open offers, however
    many jobs are stored, and their deadlines are compared here.
    """
    running = jobs_store.find(status=domain.JobStatus.OFFERED.value)
    due = [d for d in running if d.get("next_deadline") is not None and as_utc(d["next_deadline"]) <= now]
    due.sort(key=lambda document: document["next_deadline"])
    return [document["_id"] for document in due[:SWEEP_LIMIT]]


@holding(jobs_store, lambda request_id: request_id)
def fire_deadline(request_id: str) -> bool:
    """Expire the job's open offer if it is (still) overdue and go on; True when this call fired it."""
    now = utcnow()
    grace = timedelta(seconds=current_policy().expiry_grace_seconds)
    job = jobs.get_job(request_id)
    attempt = job.open_attempt
    # The grace lets an answer given at the deadline travel here before the offer is taken back.
    if attempt is None or not domain.expire(job, now - grace):
        return False
    events = jobs.continue_after_no(job, attempt, f"deadline:{attempt.task_id}", now)
    jobs.close_attempt(attempt)
    jobs.note_offers(events)
    metrics.EXPIRIES.labels(job.township).inc()
    log.info("dispatch.offer_expired", request_id=request_id, task_id=attempt.task_id)
    return True


def sweep_deadlines() -> int:
    """Fire every overdue deadline; return how many this process fired."""
    fired = 0
    grace = timedelta(seconds=current_policy().expiry_grace_seconds)
    for request_id in due_job_ids(utcnow() - grace):
        try:
            fired += fire_deadline(request_id)
        except locks.LockTimeout:
            continue  # another worker holds it; it will fire it, or the next sweep will
    return fired


def run_batch() -> int:
    """Assign all waiting requests jointly once the oldest has waited the policy's window."""
    policy = current_policy()
    waiting = jobs_store.find(status=domain.JobStatus.WAITING.value)
    if not waiting:
        return 0
    oldest = min(as_utc(document["submitted_at"]) for document in waiting)
    if policy.batch_window_seconds and utcnow() - oldest < timedelta(seconds=policy.batch_window_seconds):
        return 0
    with locks.locked("dispatch:batch"):
        held = [job_from_document(d) for d in jobs_store.find(status=domain.JobStatus.WAITING.value)]
        held.sort(key=lambda job: (job.submitted_at, job.id))
        now = utcnow()
        source = candidates.FreshCandidates(policy)
        needs = [job.need(now) for job in held]
        tried = [job.tried for job in held]
        chosen = batch.joint(needs, tried, source, policy, now) if len(held) > 1 else [None] * len(held)
        for job, candidate_id in zip(held, chosen, strict=True):
            _decide_waiting(job.id, candidate_id, policy, now)
    return len(held)


@holding(jobs_store, lambda request_id, *_args: request_id)
def _decide_waiting(request_id: str, candidate_id: str | None, policy: Policy, now: datetime) -> None:
    job = jobs.get_job(request_id)
    if job.status != domain.JobStatus.WAITING:
        return
    events: list[contracts.EventData] = []
    candidate = candidates.candidate(candidate_id, policy) if candidate_id else None
    if candidate is not None and candidate.load < candidate.capacity and candidate.id not in job.tried:
        need = job.need(now)
        ranked, _ = cascade.rank_level(
            candidates.FreshCandidates(policy), need, "station", job.tried, policy, now
        )
        considered = [cascade.record(c, b) for c, b in ranked[: cascade.CONSIDERED_KEPT]]
        job.status = domain.JobStatus.OFFERED
        events = [
            domain.offer_to(
                job,
                candidate,
                "station",
                task_id=new_id(),
                now=now,
                policy=policy,
                considered=considered,
                by="batch",
            )
        ]
    else:
        events = jobs.next_offer(job, policy, now)
    jobs.save(job, events, "batch", now)
    jobs.note_offers(events)
