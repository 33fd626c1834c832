"""HTTP entrypoints of the dispatch policy: staff read it, an admin replaces it."""

from __future__ import annotations

from flask import g
from flask_openapi3 import APIBlueprint, Tag

from services.common.auth import STAFF, Role, require
from services.common.errors import Conflict, InvalidInput
from services.common.schemas import ERROR_RESPONSES, URGENCIES, Problem
from services.common.store import ConcurrencyConflict
from services.dispatch.policy import usecases
from services.dispatch.policy.domain import Policy, validate_deadlines
from services.dispatch.policy.schemas import PolicyBody, PolicyView, policy_view

policy_api = APIBlueprint(
    "dispatch_policy",
    __name__,
    url_prefix="/api/v1/dispatch",
    abp_tags=[Tag(name="dispatch", description="派单")],
    abp_security=[{"bearer": []}],
    abp_responses=ERROR_RESPONSES,
)


@policy_api.get("/policy", responses={200: PolicyView})
def get_policy() -> PolicyView:
    """The dispatch policy in force: weights, deadlines, attempts per level, review categories (staff)."""
    require(*STAFF)
    return policy_view(usecases.policy_record())


@policy_api.put("/policy", responses={200: PolicyView, 409: Problem})
def put_policy(body: PolicyBody) -> PolicyView:
    """Replace the dispatch policy (admin); decisions use it from the next one on."""
    principal = require(Role.ADMIN)
    bad = validate_deadlines(body)
    if bad is not None:
        raise InvalidInput(
            f"offer deadline for {bad!r}: urgency must be one of {', '.join(URGENCIES)} "
            "and minutes between 0.02 and 10080",
            field="offer_deadline_minutes",
        )
    policy = Policy.model_validate(body.model_dump(exclude={"expected_version", "reason"}))
    try:
        record = usecases.save_policy(
            policy,
            principal.sub,
            body.expected_version,
            reason=body.reason,
            role=principal.role.value,
            causation_id=g.request_id,
        )
    except ConcurrencyConflict as error:
        raise Conflict(str(error)) from None
    return policy_view(record)
