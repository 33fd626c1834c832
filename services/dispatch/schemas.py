"""HTTP parameters of the dispatching stage; they double as its OpenAPI document."""

from __future__ import annotations

from pydantic import BaseModel, Field


class JobPath(BaseModel):
    request_id: str = Field(min_length=1, max_length=64)


class VolunteerPath(BaseModel):
    volunteer_id: str = Field(min_length=1, max_length=64)
