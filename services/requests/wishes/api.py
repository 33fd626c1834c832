"""HTTP entrypoints of micro-wishes (微心愿): staff post them; everyone signed in reads the wall."""

from __future__ import annotations

from flask import g
from flask_openapi3 import APIBlueprint, Tag

from services.common.auth import STAFF, require
from services.common.errors import Forbidden
from services.common.idempotency import fingerprint
from services.common.schemas import ERROR_RESPONSES
from services.requests.schemas import IdempotencyHeader
from services.requests.wishes import usecases
from services.requests.wishes.domain import wish_order
from services.requests.wishes.schemas import (
    WishCreate,
    WishListQuery,
    WishPage,
    WishPath,
    WishView,
    wish_page,
    wish_view,
)

wishes_api = APIBlueprint(
    "wishes",
    __name__,
    url_prefix="/api/v1/wishes",
    abp_tags=[Tag(name="wishes", description="micro-wishes (微心愿) and the wish wall")],
    abp_security=[{"bearer": []}],
    abp_responses=ERROR_RESPONSES,
)


@wishes_api.post("", responses={201: WishView, 200: WishView})
def post_wish(body: WishCreate, header: IdempotencyHeader) -> tuple[WishView, int, dict[str, str]]:
    """Post a beneficiary's wish (dispatchers and admins); it goes to the claim pool."""
    principal = require(*STAFF)
    if principal.township and principal.township != body.beneficiary.township:
        raise Forbidden(f"you post wishes for {principal.township} only", field="beneficiary.township")
    wish = wish_order(
        staff_id=principal.sub,
        beneficiary=body.beneficiary.model_dump(),
        title=body.title,
        description=body.description,
        category=body.category,
        urgency=body.urgency,
    )
    result = usecases.post_wish(wish, header.idempotency_key, g.request_id, fingerprint(body))
    headers = {"Location": f"/api/v1/wishes/{result.request.id}"}
    if result.created:
        return wish_view(result.request, principal), 201, headers
    return wish_view(result.request, principal), 200, {**headers, "Idempotent-Replayed": "true"}


@wishes_api.get("", responses={200: WishPage})
def wish_wall(query: WishListQuery) -> WishPage:
    """The wish wall: open, claimed and fulfilled wishes (anyone signed in; names masked)."""
    principal = require()
    found = usecases.list_wishes(
        state=query.state, township=query.township, limit=query.limit, before=query.before
    )
    return wish_page(found, principal, query.limit)


@wishes_api.get("/<wish_id>", responses={200: WishView})
def get_wish(path: WishPath) -> WishView:
    """One wish as the wall shows it."""
    principal = require()
    return wish_view(usecases.get_wish(path.wish_id), principal)
