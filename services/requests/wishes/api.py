"""HTTP entrypoints of micro-wishes (微心愿): staff post them; everyone signed in reads the wall."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import g
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field

from services.common.auth import STAFF, Principal, mask_phone, require
from services.common.county import Township
from services.common.errors import Forbidden
from services.common.paging import PageQuery
from services.common.schemas import ERROR_RESPONSES, StrictBody
from services.requests.catalog.domain import CATEGORIES, CategoryCode
from services.requests.orders.domain import ServiceRequest, Status
from services.requests.orders.narration import mask_name, short_ref
from services.requests.orders.schemas import Bilingual, IdempotencyHeader, Urgency
from services.requests.wishes import usecases as wishes

wishes_api = APIBlueprint(
    "wishes",
    __name__,
    url_prefix="/api/v1/wishes",
    abp_tags=[Tag(name="wishes", description="micro-wishes (微心愿) and the wish wall")],
    abp_security=[{"bearer": []}],
    abp_responses=ERROR_RESPONSES,
)


class Beneficiary(StrictBody):
    """The person the wish is for."""

    name: str = Field(min_length=1, max_length=50)
    flags: list[wishes.Flag] = Field(default_factory=list, max_length=7)
    township: Township
    village: str = Field(min_length=1, max_length=50)
    address: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, pattern=r"^\+?[0-9][0-9 -]{4,19}$")


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
    state: wishes.WishState | None = None
    township: Township | None = None


class BeneficiaryView(BaseModel):
    name: str
    flags: list[str]
    flags_text: list[Bilingual]
    township: str
    village: str
    phone: str | None = None


class WishView(BaseModel):
    id: str
    code: str
    title: str
    description: str
    category: str
    category_name: Bilingual
    township: str
    village: str
    beneficiary: BeneficiaryView
    state: str
    state_text: Bilingual
    status: str
    posted_at: datetime
    posted_by: str | None
    volunteer: str | None
    fulfilled_at: datetime | None
    rating_score: int | None


class WishPage(BaseModel):
    items: list[WishView]
    next_before: str | None


@wishes_api.post("", responses={201: WishView, 200: WishView})
def post_wish(body: WishCreate, header: IdempotencyHeader) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Post a beneficiary's wish (dispatchers and admins); it goes to the claim pool."""
    principal = require(*STAFF)
    if principal.township and principal.township != body.beneficiary.township:
        raise Forbidden(f"you post wishes for {principal.township} only", field="beneficiary.township")
    result = wishes.post_wish(
        staff_id=principal.sub,
        beneficiary=body.beneficiary.model_dump(),
        title=body.title,
        description=body.description,
        category=body.category,
        urgency=body.urgency,
        idempotency_key=header.idempotency_key,
        causation_id=g.request_id,
    )
    headers = {"Location": f"/api/v1/wishes/{result.request.id}"}
    if result.created:
        return present(result.request, principal), 201, headers
    return present(result.request, principal), 200, {**headers, "Idempotent-Replayed": "true"}


@wishes_api.get("", responses={200: WishPage})
def wish_wall(query: WishListQuery) -> dict[str, Any]:
    """The wish wall: open, claimed and fulfilled wishes (anyone signed in; names masked)."""
    principal = require()
    found = wishes.list_wishes(
        state=query.state, township=query.township, limit=query.limit, before=query.before
    )
    return {
        "items": [present(item, principal) for item in found],
        "next_before": found[-1].id if len(found) == query.limit else None,
    }


@wishes_api.get("/<wish_id>", responses={200: WishView})
def get_wish(path: WishPath) -> dict[str, Any]:
    """One wish as the wall shows it."""
    principal = require()
    return present(wishes.get_wish(path.wish_id), principal)


def present(item: ServiceRequest, viewer: Principal) -> dict[str, Any]:
    """The wall's view: staff covering the township see the beneficiary's name and phone."""
    beneficiary = (item.source_details or {}).get("beneficiary", {})
    staff = viewer.covers_township(item.township)
    state = wishes.wall_state(item.status)
    zh, en = wishes.STATE_TEXT[state]
    category = CATEGORIES[item.category]
    flags = list(beneficiary.get("flags", []))
    volunteer = (
        item.volunteer_id if staff or viewer.sub == item.volunteer_id else short_ref(item.volunteer_id)
    )
    return {
        "id": item.id,
        "code": item.code,
        "title": item.title,
        "description": item.description,
        "category": item.category,
        "category_name": {"zh": category.name_zh, "en": category.name_en},
        "township": item.township,
        "village": item.village,
        "beneficiary": {
            "name": beneficiary.get("name", "") if staff else mask_name(beneficiary.get("name")),
            "flags": flags,
            "flags_text": [
                {"zh": wishes.FLAG_TEXT[f][0], "en": wishes.FLAG_TEXT[f][1]}
                for f in flags
                if f in wishes.FLAG_TEXT
            ],
            "township": item.township,
            "village": item.village,
            "phone": beneficiary.get("phone") if staff else mask_phone(beneficiary.get("phone")),
        },
        "state": state,
        "state_text": {"zh": zh, "en": en},
        "status": item.status.value,
        "posted_at": item.submitted_at,
        "posted_by": item.resident_id if staff else None,
        "volunteer": volunteer or None,
        "fulfilled_at": item.stage_times.get(Status.COMPLETED),
        "rating_score": item.rating_score,
    }
