"""HTTP entrypoints of pairing (结对帮扶): beneficiaries, pairings and their visits."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field

from services.common.auth import STAFF, Principal, Role, mask_phone, require
from services.common.county import Township
from services.common.errors import Forbidden, NotFound
from services.common.paging import PageQuery
from services.common.schemas import ERROR_RESPONSES, StrictBody
from services.volunteers.pairing import usecases as service
from services.volunteers.pairing.domain import Beneficiary, Pairing, Visit

COMMON = {"abp_security": [{"bearer": []}], "abp_responses": ERROR_RESPONSES}
TAG = [Tag(name="pairing", description="结对帮扶")]
beneficiaries_api = APIBlueprint(
    "beneficiaries", __name__, url_prefix="/api/v1/beneficiaries", abp_tags=TAG, **COMMON
)
pairings_api = APIBlueprint("pairings", __name__, url_prefix="/api/v1/pairings", abp_tags=TAG, **COMMON)
visits_api = APIBlueprint("visits", __name__, url_prefix="/api/v1/visits", abp_tags=TAG, **COMMON)
PAIRING_BLUEPRINTS = (beneficiaries_api, pairings_api, visits_api)

Flag = Literal[
    "living_alone", "bereaved_only_child", "elderly", "disabled", "left_behind", "low_income", "sick"
]


class BeneficiaryCreate(StrictBody):
    name: str = Field(min_length=1, max_length=50)
    township: Township
    village: str = Field(min_length=1, max_length=50)
    flags: list[Flag] = Field(default_factory=list, max_length=7)
    address: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, pattern=r"^\+?[0-9][0-9 -]{4,19}$")
    resident_id: str | None = Field(None, max_length=64, description="their (or their family's) account")


class BeneficiaryQuery(PageQuery):
    township: Township | None = None
    flag: Flag | None = None


class BeneficiaryPath(BaseModel):
    beneficiary_id: str = Field(min_length=1, max_length=64)


class PairingCreate(StrictBody):
    beneficiary_id: str = Field(min_length=1, max_length=64)
    volunteer_ids: list[str] = Field(min_length=1, max_length=10, description="one: 一对一; several: 多对一")
    every_days: int = Field(7, ge=1, le=366, description="a visit every N days")
    grace_hours: int = Field(
        72, ge=1, le=24 * 30, description="how long after it falls due a visit may be done"
    )
    first_visit_at: datetime | None = Field(None, description="when the first visit falls due (default: now)")
    category: str = Field("elder_care", max_length=40)
    note: str | None = Field(None, max_length=500)


class PairingQuery(PageQuery):
    township: Township | None = None
    volunteer_id: str | None = Field(None, max_length=64)
    active: bool | None = None


class PairingPath(BaseModel):
    pairing_id: str = Field(min_length=1, max_length=64)


class VisitQuery(PageQuery):
    township: Township | None = None
    status: Literal["due", "requested", "done", "missed"] | None = None
    pairing_id: str | None = Field(None, max_length=64)


class VisitPath(BaseModel):
    visit_id: str = Field(min_length=1, max_length=100)


def _township_scope(principal: Principal, asked: str | None) -> str | None:
    """Township staff see their township only; county staff see what they ask for."""
    if principal.township is None:
        return asked
    if asked and asked != principal.township:
        raise Forbidden(f"you see {principal.township} only", field="township")
    return principal.township


def _page(items: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    return {"items": items, "next_before": items[-1]["id"] if len(items) == limit else None}


# --- beneficiaries ---------------------------------------------------------------------------------
@beneficiaries_api.post("")
def register_beneficiary(body: BeneficiaryCreate) -> tuple[dict[str, Any], int]:
    """Register someone to be visited (staff; township staff for their township)."""
    principal = require(*STAFF)
    _township_scope(principal, body.township)
    return _beneficiary(service.register_beneficiary(body.model_dump()), principal), 201


@beneficiaries_api.get("")
def list_beneficiaries(query: BeneficiaryQuery) -> dict[str, Any]:
    """Beneficiaries by township and flag (staff)."""
    principal = require(*STAFF)
    found = service.list_beneficiaries(
        township=_township_scope(principal, query.township),
        flag=query.flag,
        limit=query.limit,
        before=query.before,
    )
    return _page([_beneficiary(b, principal) for b in found], query.limit)


@beneficiaries_api.get("/<beneficiary_id>")
def get_beneficiary(path: BeneficiaryPath) -> dict[str, Any]:
    """One beneficiary (staff covering the township, or the beneficiary's own account)."""
    principal = require()
    found = service.get_beneficiary(path.beneficiary_id)
    if principal.sub != found.resident_id and not principal.covers_township(found.township):
        raise NotFound("no beneficiary with that id")
    return _beneficiary(found, principal)


def _beneficiary(found: Beneficiary, viewer: Principal) -> dict[str, Any]:
    view = asdict(found)
    view.pop("version")
    if not viewer.is_staff and viewer.sub != found.resident_id:
        view["phone"] = mask_phone(found.phone)
    return view


# --- pairings --------------------------------------------------------------------------------------
@pairings_api.post("")
def create_pairing(body: PairingCreate) -> tuple[dict[str, Any], int]:
    """Pair volunteers with a beneficiary and set the visit schedule (staff)."""
    principal = require(*STAFF)
    beneficiary = service.get_beneficiary(body.beneficiary_id)
    _township_scope(principal, beneficiary.township)
    return _pairing(service.create_pairing(body.model_dump())), 201


@pairings_api.get("")
def list_pairings(query: PairingQuery) -> dict[str, Any]:
    """Pairings (staff); a volunteer sees their own."""
    principal = require(Role.VOLUNTEER, *STAFF)
    volunteer_id = query.volunteer_id
    township = query.township
    if not principal.is_staff:
        volunteer_id = principal.sub
    else:
        township = _township_scope(principal, township)
    found = service.list_pairings(
        township=township,
        volunteer_id=volunteer_id,
        active=query.active,
        limit=query.limit,
        before=query.before,
    )
    return _page([_pairing(p) for p in found], query.limit)


@pairings_api.get("/<pairing_id>")
def get_pairing(path: PairingPath) -> dict[str, Any]:
    """One pairing (staff covering it, or a paired volunteer)."""
    principal = require()
    found = service.get_pairing(path.pairing_id)
    if principal.sub not in found.volunteer_ids and not principal.covers_township(found.township):
        raise NotFound("no pairing with that id")
    return _pairing(found)


@pairings_api.post("/<pairing_id>/end")
def end_pairing(path: PairingPath) -> dict[str, Any]:
    """End a pairing: no more visits (staff covering it)."""
    principal = require(*STAFF)
    found = service.get_pairing(path.pairing_id)
    if not principal.covers_township(found.township):
        raise NotFound("no pairing with that id")
    return _pairing(service.end_pairing(path.pairing_id))


def _pairing(found: Pairing) -> dict[str, Any]:
    view = asdict(found)
    view.pop("version")
    view["kind"] = found.kind
    return view


# --- visits ----------------------------------------------------------------------------------------
@visits_api.get("")
def list_visits(query: VisitQuery) -> dict[str, Any]:
    """Visits by township, status (due, requested, done, missed) and pairing (staff)."""
    principal = require(*STAFF)
    found = service.list_visits(
        township=_township_scope(principal, query.township),
        status=query.status,
        pairing_id=query.pairing_id,
        limit=query.limit,
        before=query.before,
    )
    return _page([_visit(v) for v in found], query.limit)


@visits_api.get("/<visit_id>")
def get_visit(path: VisitPath) -> dict[str, Any]:
    """One visit (staff covering it, or a paired volunteer)."""
    principal = require()
    found = service.get_visit(path.visit_id)
    if principal.sub not in found.volunteer_ids and not principal.covers_township(found.township):
        raise NotFound("no visit with that id")
    return _visit(found)


def _visit(found: Visit) -> dict[str, Any]:
    view = asdict(found)
    view.pop("version")
    view["status"] = found.status.value
    return view
