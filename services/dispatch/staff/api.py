"""HTTP entrypoints of the dispatching stage: explanations, the dispatchers' queue, review, policy."""

from __future__ import annotations

from typing import Any

from flask import g
from flask_openapi3 import APIBlueprint, Tag

from services.common.auth import STAFF, Principal, Role, require
from services.common.errors import Conflict, InvalidInput, NotFound
from services.common.schemas import ERROR_RESPONSES
from services.common.store import ConcurrencyConflict
from services.dispatch import staff, usecases
from services.dispatch.policy import Policy, validate_deadlines
from services.dispatch.schemas import AssignBody, JobPath, PolicyBody, QueueQuery, ReviewBody, VolunteerPath

dispatch_api = APIBlueprint(
    "dispatch",
    __name__,
    url_prefix="/api/v1/dispatch",
    abp_tags=[Tag(name="dispatch", description="派单")],
    abp_security=[{"bearer": []}],
    abp_responses=ERROR_RESPONSES,
)


def _covered_job(principal: Principal, request_id: str) -> Any:
    job = usecases.get_job(request_id)
    if not principal.covers_township(job.township):
        raise NotFound("no dispatch record for that request")
    return job


@dispatch_api.get("/policy")
def get_policy() -> dict[str, Any]:
    """The dispatch policy in force: weights, deadlines, attempts per level, review categories (staff)."""
    require(*STAFF)
    policy, version, meta = usecases.policy_record()
    return {"version": version, **meta, "policy": policy.model_dump()}


@dispatch_api.put("/policy")
def put_policy(body: PolicyBody) -> dict[str, Any]:
    """Replace the dispatch policy (admin); decisions use it from the next one on."""
    principal = require(Role.ADMIN)
    bad = validate_deadlines(body)
    if bad is not None:
        raise InvalidInput(
            f"offer deadline for {bad!r}: urgency must be one of urgent, high, normal, low "
            "and minutes between 0.02 and 10080",
            field="offer_deadline_minutes",
        )
    policy = Policy.model_validate(body.model_dump(exclude={"expected_version"}))
    try:
        version = usecases.save_policy(policy, principal.sub, body.expected_version)
    except ConcurrencyConflict as error:
        raise Conflict(str(error)) from None
    return {"version": version, "updated_by": principal.sub, "policy": policy.model_dump()}


@dispatch_api.get("/queue")
def get_queue(query: QueueQuery) -> dict[str, Any]:
    """Requests waiting for a dispatcher: escalations to assign by hand and requests to review."""
    principal = require(*STAFF)
    township = principal.township or query.township
    return {"township": township, "items": staff.queue(township, query.limit)}


@dispatch_api.post("/<request_id>/assign")
def assign(path: JobPath, body: AssignBody) -> dict[str, Any]:
    """Offer an escalated request to a volunteer or team by hand (dispatcher of its township, or county)."""
    principal = require(*STAFF)
    _covered_job(principal, path.request_id)
    candidate_id = body.volunteer_id or body.team_id or ""
    job = staff.assign(path.request_id, candidate_id, principal.sub, g.request_id)
    return staff.present_job(job)


@dispatch_api.post("/<request_id>/review")
def review(path: JobPath, body: ReviewBody) -> dict[str, Any]:
    """Approve a request held for review, or reject it with a reason the resident sees."""
    principal = require(*STAFF)
    _covered_job(principal, path.request_id)
    job = staff.review(path.request_id, body.decision == "approve", body.reason, principal.sub, g.request_id)
    return staff.present_job(job)


@dispatch_api.get("/volunteers/<volunteer_id>")
def get_volunteer_view(path: VolunteerPath) -> dict[str, Any]:
    """What dispatch knows of a volunteer: profile, availability, load, history (staff)."""
    principal = require(*STAFF)
    view = usecases.volunteer_view(path.volunteer_id)
    if view is None or not principal.covers_township(view["township"]):
        raise NotFound("dispatch knows no volunteer with that id")
    return view


@dispatch_api.get("/<request_id>")
def get_dispatch(path: JobPath) -> dict[str, Any]:
    """Why a request went where it went: every attempt, the candidates weighed and their scores (staff)."""
    principal = require(*STAFF)
    return staff.present_job(_covered_job(principal, path.request_id))
