"""The catalogue of services residents can order, owned by the requests stage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from services.common.schemas import URGENCIES

CategoryCode = Literal[
    "elder_care",
    "study_help",
    "family_education",
    "policy_lecture",
    "health_check",
    "legal_aid",
    "environment",
    "repairs",
    "culture",
    "other",
]

# How much of a category's normal time an urgency allows: an urgent order gets a quarter of it.
URGENCY_FACTOR = {"low": 2.0, "normal": 1.0, "high": 0.5, "urgent": 0.25}


@dataclass(frozen=True)
class Deadlines:
    """How long the centre may take to find a volunteer who answers, and to finish the service."""

    respond_within_minutes: int
    complete_within_hours: int

    def due(self, submitted_at: datetime) -> tuple[datetime, datetime]:
        """(respond by, complete by) for a request submitted at `submitted_at`."""
        return (
            submitted_at + timedelta(minutes=self.respond_within_minutes),
            submitted_at + timedelta(hours=self.complete_within_hours),
        )


@dataclass(frozen=True)
class Category:
    """A kind of service, the skills a volunteer needs for it, and how long an offer may wait."""

    code: str
    name_zh: str
    name_en: str
    skills: tuple[str, ...]
    offer_deadline_minutes: int = 120
    # Review before dispatch is the dispatch engine's work; a category only says it wants one.
    needs_review: bool = False
    # A normal-urgency request: answered within this many minutes, served within this many hours.
    respond_within_minutes: int = 120
    complete_within_hours: int = 72
    description_zh: str = ""
    description_en: str = ""

    def deadlines(self, urgency: str = "normal") -> Deadlines:
        """The deadlines for one urgency (never shorter than 15 minutes or 2 hours)."""
        factor = URGENCY_FACTOR.get(urgency, 1.0)
        return Deadlines(
            respond_within_minutes=max(15, round(self.respond_within_minutes * factor)),
            complete_within_hours=max(2, round(self.complete_within_hours * factor)),
        )


CATEGORIES: dict[str, Category] = {
    category.code: category
    for category in (
        Category(
            "elder_care",
            "助老服务",
            "Elder care",
            ("elder_care",),
            respond_within_minutes=60,
            complete_within_hours=24,
            description_zh="陪同就医、代购代办、上门探访",
            description_en="Company to the doctor, errands, home visits",
        ),
        Category(
            "study_help",
            "学业辅导",
            "Study help",
            ("tutoring",),
            complete_within_hours=168,
            description_zh="课业辅导、作业答疑",
            description_en="Homework help and tutoring",
        ),
        Category(
            "family_education",
            "家庭教育指导",
            "Family education",
            ("family_education",),
            complete_within_hours=168,
            description_zh="家庭教育指导站的亲子沟通与育儿咨询",
            description_en="Parenting advice from the family-education guidance stations",
        ),
        Category(
            "policy_lecture",
            "政策宣讲",
            "Policy lectures",
            ("lecturing",),
            24 * 60,
            respond_within_minutes=24 * 60,
            complete_within_hours=336,
            description_zh="宣讲团进村入户讲政策",
            description_en="A lecture team explains policies in the village",
        ),
        Category(
            "health_check",
            "健康义诊",
            "Health checks",
            ("medical",),
            complete_within_hours=168,
            description_zh="量血压、测血糖、健康咨询",
            description_en="Blood pressure, blood sugar and health advice",
        ),
        Category(
            "legal_aid",
            "法律援助",
            "Legal aid",
            ("legal",),
            # Legal matters are looked at by staff before a volunteer lawyer is asked.
            needs_review=True,
            respond_within_minutes=240,
            complete_within_hours=168,
            description_zh="法律咨询、纠纷调解",
            description_en="Legal advice and mediation",
        ),
        Category(
            "environment",
            "环境整治",
            "Environment",
            ("environment",),
            description_zh="卫生清理、垃圾分类、环境整治",
            description_en="Clean-ups, rubbish sorting, tidying public space",
        ),
        Category(
            "repairs",
            "家电维修",
            "Repairs",
            ("repairs",),
            60,
            respond_within_minutes=60,
            complete_within_hours=48,
            description_zh="家电、水电的小修小补",
            description_en="Small repairs of appliances, water and power",
        ),
        Category(
            "culture",
            "文化活动",
            "Culture",
            ("culture",),
            complete_within_hours=336,
            description_zh="文艺演出、读书会、传统文化活动",
            description_en="Performances, reading groups, traditional culture",
        ),
        Category(
            "other",
            "其他服务",
            "Other",
            (),
            description_zh="以上类别之外的需求",
            description_en="Anything not listed above",
        ),
    )
}

assert set(CATEGORIES) == set(get_args(CategoryCode)), "CategoryCode and CATEGORIES must list the same codes"
assert set(URGENCY_FACTOR) == set(URGENCIES), "every urgency needs its factor"
