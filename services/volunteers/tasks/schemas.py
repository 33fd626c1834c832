"""HTTP bodies and queries of the accepting stage; they double as its OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from services.common.contracts import AvailabilityException, WeeklySlot
from services.common.county import Township
from services.common.paging import PageQuery
from services.common.schemas import StrictBody

Skill = str
TeamKind = Literal["county_corps", "standing", "sub_team", "lecture_brand"]
StationKind = Literal["village", "community", "family_education"]
TaskStatusName = Literal["offered", "accepted", "in_service", "completed", "declined", "withdrawn"]


class VolunteerCreate(StrictBody):
    name: str = Field(min_length=1, max_length=50)
    phone: str | None = Field(None, pattern=r"^\+?[0-9][0-9 -]{4,19}$")
    township: Township
    station: str | None = Field(None, max_length=50)
    skills: list[Skill] = Field(min_length=1, max_length=20)
    team_ids: list[str] = Field(default_factory=list, max_length=20)
    active: bool = True
    capacity: int = Field(2, ge=0, le=20, description="tasks at once")
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    weekly_availability: list[WeeklySlot] = Field(default_factory=list, max_length=50)
    availability_exceptions: list[AvailabilityException] = Field(default_factory=list, max_length=100)


class VolunteerPatch(StrictBody):
    name: str | None = Field(None, min_length=1, max_length=50)
    phone: str | None = Field(None, pattern=r"^\+?[0-9][0-9 -]{4,19}$")
    township: Township | None = None
    station: str | None = Field(None, max_length=50)
    skills: list[Skill] | None = Field(None, min_length=1, max_length=20)
    team_ids: list[str] | None = Field(None, max_length=20)
    active: bool | None = None
    capacity: int | None = Field(None, ge=0, le=20)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    weekly_availability: list[WeeklySlot] | None = Field(None, max_length=50)
    availability_exceptions: list[AvailabilityException] | None = Field(None, max_length=100)


class VolunteerPath(BaseModel):
    volunteer_id: str = Field(min_length=1, max_length=64)


class VolunteerListQuery(PageQuery):
    township: Township | None = None
    skill: str | None = Field(None, max_length=40)
    active: bool | None = None


class TeamCreate(StrictBody):
    name: str = Field(min_length=1, max_length=80)
    kind: TeamKind
    parent_id: str | None = Field(None, max_length=64)
    townships: list[Township] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list, max_length=20)
    leader_id: str | None = Field(None, max_length=64)
    member_ids: list[str] = Field(default_factory=list, max_length=500)


class TeamListQuery(PageQuery):
    kind: TeamKind | None = None
    township: Township | None = None


class StationCreate(StrictBody):
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=80)
    township: Township
    kind: StationKind


class StationListQuery(PageQuery):
    township: Township | None = None
    kind: StationKind | None = None


class TaskPath(BaseModel):
    task_id: str = Field(min_length=1, max_length=64)


class TaskListQuery(PageQuery):
    status: TaskStatusName | None = None
    volunteer_id: str | None = Field(None, max_length=64, description="staff only: whose inbox")


class DeclineBody(StrictBody):
    reason: str = Field(min_length=1, max_length=500)


class CompleteBody(StrictBody):
    hours: float = Field(gt=0, le=24)
    note: str | None = Field(None, max_length=500)
