"""HTTP entrypoint of a request's dispatch: why it went where it went (staff)."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from services.common.auth import STAFF, require
from services.common.schemas import ERROR_RESPONSES
from services.dispatch.jobs import usecases
from services.dispatch.jobs.schemas import JobPath, JobView, job_view

jobs_api = APIBlueprint(
    "dispatch_jobs",
    __name__,
    url_prefix="/api/v1/dispatch",
    abp_tags=[Tag(name="dispatch", description="派单")],
    abp_security=[{"bearer": []}],
    abp_responses=ERROR_RESPONSES,
)


@jobs_api.get("/<request_id>", responses={200: JobView})
def get_dispatch(path: JobPath) -> JobView:
    """Why a request went where it went: every attempt, the candidates weighed and their scores (staff)."""
    principal = require(*STAFF)
    return job_view(usecases.covered_job(principal, path.request_id))
