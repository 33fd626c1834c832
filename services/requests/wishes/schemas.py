"""HTTP bodies and views of micro-wishes, and the function that builds the wall's view."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from services.common.auth import Principal, mask_phone
from services.common.county import Township
from services.common.paging import Listed, Page, PageQuery
from services.common.schemas import Phone, StrictBody, Urgency, View
from services.requests.catalog.domain import CATEGORIES, CategoryCode
from services.requests.orders.domain import ServiceRequest, Status, mask_name, short_ref
from services.requests.schemas import Bilingual, bilingual
from services.requests.wishes.domain import FLAG_TEXT, STATE_TEXT, Flag, WishState, wall_state


# --- bodies ------------------------------------------------------------------------------------------
class Beneficiary(StrictBody):
    """The person the wish is for."""

    name: str = Field(min_length=1, max_length=50)
    flags: list[Flag] = Field(default_factory=list, max_length=7)
    township: Township
    village: str = Field(min_length=1, max_length=50)
    address: str | None = Field(None, max_length=200)
    phone: Phone | None = None


class WishCreate(StrictBody):
    """A wish, posted by staff for a beneficiary."""

    beneficiary: Beneficiary
    title: str = Field(min_length=1, max_length=100, description="the wish, in a few words")
    description: str = Field(min_length=1, max_length=2000)
    category: CategoryCode = "other"
    urgency: Urgency = "normal"


class WishPath(BaseModel):
    wish_id: str = Field(min_length=1, max_length=64)


class WishListQuery(PageQuery):
    state: WishState | None = None
    township: Township | None = None


# --- views -------------------------------------------------------------------------------------------
class BeneficiaryView(View):
    """The beneficiary; name and phone in full only for staff covering the township."""

    name: str
    flags: list[str]
    flags_text: list[Bilingual]
    township: str
    village: str
    phone: str | None


class WishView(View):
    """A wish as the wall shows it."""

    id: str
    code: str
    title: str
    description: str
    category: str
    category_name: Bilingual
    township: str
    village: str
    beneficiary: BeneficiaryView
    state: WishState
    state_text: Bilingual
    status: Status
    posted_at: datetime
    posted_by: str | None
    volunteer: str | None
    fulfilled_at: datetime | None
    rating_score: int | None


WishPage = Page[WishView]


def wish_view(item: ServiceRequest, viewer: Principal) -> WishView:
    """The wall's view: staff covering the township see the beneficiary's name and phone."""
    beneficiary = (item.source_details or {}).get("beneficiary", {})
    staff = viewer.covers_township(item.township)
    state = wall_state(item.status)
    category = CATEGORIES[item.category]
    flags = list(beneficiary.get("flags", []))
    volunteer = (
        item.volunteer_id if staff or viewer.sub == item.volunteer_id else short_ref(item.volunteer_id)
    )
    return WishView(
        id=item.id,
        code=item.code,
        title=item.title,
        description=item.description,
        category=item.category,
        category_name=Bilingual(zh=category.name_zh, en=category.name_en),
        township=item.township,
        village=item.village,
        beneficiary=BeneficiaryView(
            name=beneficiary.get("name", "") if staff else mask_name(beneficiary.get("name")),
            flags=flags,
            flags_text=[bilingual(FLAG_TEXT[flag]) for flag in flags if flag in FLAG_TEXT],
            township=item.township,
            village=item.village,
            phone=beneficiary.get("phone") if staff else mask_phone(beneficiary.get("phone")),
        ),
        state=state,
        state_text=bilingual(STATE_TEXT[state]),
        status=item.status,
        posted_at=item.submitted_at,
        posted_by=item.resident_id if staff else None,
        volunteer=volunteer or None,
        fulfilled_at=item.stage_times.get(Status.COMPLETED),
        rating_score=item.rating_score,
    )


def wish_page(found: Listed[ServiceRequest], viewer: Principal) -> WishPage:
    """A page of the wall."""
    return WishPage(**found.body(lambda item: wish_view(item, viewer)))
