"""HTTP parameters, bodies and views of the dispatchers' work; they double as its OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from services.common.county import Township
from services.common.schemas import StrictBody, View
from services.dispatch.jobs.domain import Job
from services.dispatch.jobs.schemas import ConsideredView, JobSummaryView, job_summary


class QueueQuery(BaseModel):
    township: Township | None = Field(None, description="county-wide staff may narrow to one township")
    limit: int = Field(50, ge=1, le=200)


class AssignBody(StrictBody):
    volunteer_id: str | None = Field(None, min_length=1, max_length=64)
    team_id: str | None = Field(None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def one_of(self) -> AssignBody:
        """Exactly one of volunteer_id and team_id."""
        if (self.volunteer_id is None) == (self.team_id is None):
            raise ValueError("name exactly one of volunteer_id and team_id")
        return self


class ReviewBody(StrictBody):
    decision: Literal["approve", "reject"]
    reason: str | None = Field(None, max_length=500, description="required to reject; the resident reads it")


class QueueView(View):
    """Requests waiting for a dispatcher, oldest first."""

    township: str | None = Field(description="the township the queue covers; null: the whole county")
    items: list[JobSummaryView]


def queue_view(township: str | None, jobs: list[Job]) -> QueueView:
    """The queue as a dispatcher sees it."""
    return QueueView(township=township, items=[job_summary(job) for job in jobs])


class CandidatesQuery(BaseModel):
    limit: int = Field(20, ge=1, le=50)


class HandCandidateView(ConsideredView):
    """A candidate a dispatcher may assign by hand, and what became of earlier offers to them."""

    level: Literal["station", "township", "county"]
    declined: bool = Field(description="declined this request before")
    lapsed: bool = Field(description="let an offer of this request run past its deadline")


class CandidatesView(View):
    """Who could serve the request now, best first within each level (station, township, county)."""

    request_id: str
    items: list[HandCandidateView]


def candidates_view(job: Job, found: list[tuple[str, dict[str, object]]]) -> CandidatesView:
    """The ranked candidates as a dispatcher reads them."""
    declined, lapsed = set(job.declined_by), set(job.expired_by)
    return CandidatesView(
        request_id=job.id,
        items=[
            HandCandidateView.model_validate(
                {
                    **record,
                    "level": level,
                    "declined": record["candidate_id"] in declined,
                    "lapsed": record["candidate_id"] in lapsed,
                }
            )
            for level, record in found
        ],
    )
