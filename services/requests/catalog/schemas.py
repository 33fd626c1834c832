"""The catalogue as the API shows it: each category's names, skills, review and deadlines per urgency."""

from __future__ import annotations

from services.common.schemas import URGENCIES, Urgency, View
from services.requests.catalog.domain import CATEGORIES, Category, CategoryCode
from services.requests.schemas import Bilingual


class UrgencyDeadlines(View):
    """How soon an order of one urgency is answered and served."""

    respond_within_minutes: int
    complete_within_hours: int


class CategoryView(View):
    """A service residents can order."""

    code: CategoryCode
    name: Bilingual
    skills: list[str]
    offer_deadline_minutes: int
    needs_review: bool
    description: Bilingual
    deadlines: dict[Urgency, UrgencyDeadlines]


class CatalogView(View):
    """Every category, in the catalogue's order."""

    items: list[CategoryView]


def category_view(category: Category) -> CategoryView:
    """A category with its Chinese and English names and its deadlines for every urgency."""
    return CategoryView(
        code=category.code,
        name=Bilingual(zh=category.name_zh, en=category.name_en),
        skills=list(category.skills),
        offer_deadline_minutes=category.offer_deadline_minutes,
        needs_review=category.needs_review,
        description=Bilingual(zh=category.description_zh, en=category.description_en),
        deadlines={
            urgency: UrgencyDeadlines(
                respond_within_minutes=category.deadlines(urgency).respond_within_minutes,
                complete_within_hours=category.deadlines(urgency).complete_within_hours,
            )
            for urgency in URGENCIES
        },
    )


def catalog_view() -> CatalogView:
    """The whole catalogue."""
    return CatalogView(items=[category_view(category) for category in CATEGORIES.values()])
