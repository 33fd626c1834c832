"""HTTP entrypoints of the dispatchers' work: their queue, assigning by hand, reviewing."""

from __future__ import annotations

from flask import g
from flask_openapi3 import APIBlueprint, Tag

from services.common.auth import STAFF, require, township_scope
from services.common.schemas import ERROR_RESPONSES, Problem
from services.dispatch.jobs.schemas import JobPath, JobView, job_view
from services.dispatch.jobs.usecases import covered_job
from services.dispatch.staff import usecases
from services.dispatch.staff.schemas import (
    AssignBody,
    CandidatesQuery,
    CandidatesView,
    QueueQuery,
    QueueView,
    ReviewBody,
    candidates_view,
    queue_view,
)

staff_api = APIBlueprint(
    "dispatch_staff",
    __name__,
    url_prefix="/api/v1/dispatch",
    abp_tags=[Tag(name="dispatch", description="派单")],
    abp_security=[{"bearer": []}],
    abp_responses=ERROR_RESPONSES,
)


@staff_api.get("/queue", responses={200: QueueView})
def get_queue(query: QueueQuery) -> QueueView:
    """Requests waiting for a dispatcher: escalations to assign by hand and requests to review."""
    principal = require(*STAFF)
    township = township_scope(principal, query.township, "the queue")
    return queue_view(township, usecases.queue(township, query.limit))


@staff_api.get("/<request_id>/candidates", responses={200: CandidatesView})
def get_candidates(path: JobPath, query: CandidatesQuery) -> CandidatesView:
    """Who could serve the request now, with the parts of each score: the choice for assigning by hand."""
    principal = require(*STAFF)
    job = covered_job(principal, path.request_id)
    return candidates_view(job, usecases.candidates_for(job, query.limit))


@staff_api.post("/<request_id>/assign", responses={200: JobView, 409: Problem})
def assign(path: JobPath, body: AssignBody) -> JobView:
    """Offer an escalated request to a volunteer or team by hand (dispatcher of its township, or county)."""
    principal = require(*STAFF)
    covered_job(principal, path.request_id)
    candidate_id = body.volunteer_id or body.team_id or ""
    return job_view(
        usecases.assign(path.request_id, candidate_id, principal.sub, g.request_id, principal.role.value)
    )


@staff_api.post("/<request_id>/review", responses={200: JobView, 409: Problem})
def review(path: JobPath, body: ReviewBody) -> JobView:
    """Approve a request held for review, or reject it with a reason the resident sees."""
    principal = require(*STAFF)
    covered_job(principal, path.request_id)
    job = usecases.review(
        path.request_id,
        body.decision == "approve",
        body.reason,
        principal.sub,
        g.request_id,
        principal.role.value,
    )
    return job_view(job)
