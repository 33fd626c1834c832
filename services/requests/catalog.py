"""The catalogue of services residents can order, owned by the requests stage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

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


@dataclass(frozen=True)
class Category:
    """A kind of service, the skills a volunteer needs for it, and how long an offer may wait."""

    code: str
    name_zh: str
    name_en: str
    skills: tuple[str, ...]
    offer_deadline_minutes: int = 120
    # Review before dispatch is part of the dispatch engine's work; no category asks for it yet.
    needs_review: bool = False


CATEGORIES: dict[str, Category] = {
    category.code: category
    for category in (
        Category("elder_care", "助老服务", "Elder care", ("elder_care",)),
        Category("study_help", "学业辅导", "Study help", ("tutoring",)),
        Category("family_education", "家庭教育指导", "Family education", ("family_education",)),
        Category("policy_lecture", "政策宣讲", "Policy lectures", ("lecturing",), 24 * 60),
        Category("health_check", "健康义诊", "Health checks", ("medical",)),
        Category("legal_aid", "法律援助", "Legal aid", ("legal",)),
        Category("environment", "环境整治", "Environment", ("environment",)),
        Category("repairs", "家电维修", "Repairs", ("repairs",), 60),
        Category("culture", "文化活动", "Culture", ("culture",)),
        Category("other", "其他服务", "Other", ()),
    )
}

assert set(CATEGORIES) == set(get_args(CategoryCode)), "CategoryCode and CATEGORIES must list the same codes"
