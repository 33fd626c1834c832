"""HTTP entrypoints of pairing (结对帮扶): beneficiaries, pairings and their visits."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from services.common.auth import STAFF, Role, require, township_scope
from services.common.errors import NotFound
from services.common.paging import Page
from services.common.schemas import ERROR_RESPONSES, Problem
from services.volunteers.pairing import usecases
from services.volunteers.pairing.schemas import (
    BeneficiaryCreate,
    BeneficiaryPath,
    BeneficiaryQuery,
    BeneficiaryView,
    PairingCreate,
    PairingPath,
    PairingQuery,
    PairingView,
    VisitPath,
    VisitQuery,
    VisitView,
    beneficiary_view,
    pairing_view,
    visit_view,
)

COMMON = {"abp_security": [{"bearer": []}], "abp_responses": ERROR_RESPONSES}
TAGS = [Tag(name="pairing", description="结对帮扶")]
beneficiaries_api = APIBlueprint(
    "beneficiaries", __name__, url_prefix="/api/v1/beneficiaries", abp_tags=TAGS, **COMMON
)
pairings_api = APIBlueprint("pairings", __name__, url_prefix="/api/v1/pairings", abp_tags=TAGS, **COMMON)
visits_api = APIBlueprint("visits", __name__, url_prefix="/api/v1/visits", abp_tags=TAGS, **COMMON)


# --- beneficiaries ---------------------------------------------------------------------------------
@beneficiaries_api.post("", responses={201: BeneficiaryView})
def register_beneficiary(body: BeneficiaryCreate) -> tuple[BeneficiaryView, int]:
    """Register someone to be visited (staff; township staff for their township)."""
    principal = require(*STAFF)
    township_scope(principal, body.township, "beneficiaries")
    return beneficiary_view(usecases.register_beneficiary(body.model_dump()), principal), 201


@beneficiaries_api.get("", responses={200: Page[BeneficiaryView]})
def list_beneficiaries(query: BeneficiaryQuery) -> Page[BeneficiaryView]:
    """Beneficiaries by township and flag (staff)."""
    principal = require(*STAFF)
    found = usecases.list_beneficiaries(
        township=township_scope(principal, query.township, "beneficiaries"),
        flag=query.flag,
        limit=query.limit,
        before=query.before,
    )
    return Page[BeneficiaryView](**found.body(lambda beneficiary: beneficiary_view(beneficiary, principal)))


@beneficiaries_api.get("/<beneficiary_id>", responses={200: BeneficiaryView})
def get_beneficiary(path: BeneficiaryPath) -> BeneficiaryView:
    """One beneficiary (staff covering the township, or the beneficiary's own account)."""
    principal = require()
    found = usecases.get_beneficiary(path.beneficiary_id)
    if principal.sub != found.resident_id and not principal.covers_township(found.township):
        raise NotFound("no beneficiary with that id")
    return beneficiary_view(found, principal)


# --- pairings --------------------------------------------------------------------------------------
@pairings_api.post("", responses={201: PairingView})
def create_pairing(body: PairingCreate) -> tuple[PairingView, int]:
    """Pair volunteers with a beneficiary and set the visit schedule (staff)."""
    principal = require(*STAFF)
    beneficiary = usecases.get_beneficiary(body.beneficiary_id)
    township_scope(principal, beneficiary.township, "pairings")
    return pairing_view(usecases.create_pairing(body.model_dump())), 201


@pairings_api.get("", responses={200: Page[PairingView]})
def list_pairings(query: PairingQuery) -> Page[PairingView]:
    """Pairings (staff); a volunteer sees their own."""
    principal = require(Role.VOLUNTEER, *STAFF)
    volunteer_id = query.volunteer_id
    township = query.township
    if not principal.is_staff:
        volunteer_id = principal.sub
    else:
        township = township_scope(principal, township, "pairings")
    found = usecases.list_pairings(
        township=township,
        volunteer_id=volunteer_id,
        active=query.active,
        limit=query.limit,
        before=query.before,
    )
    return Page[PairingView](**found.body(pairing_view))


@pairings_api.get("/<pairing_id>", responses={200: PairingView})
def get_pairing(path: PairingPath) -> PairingView:
    """One pairing (staff covering it, or a paired volunteer)."""
    principal = require()
    found = usecases.get_pairing(path.pairing_id)
    if principal.sub not in found.volunteer_ids and not principal.covers_township(found.township):
        raise NotFound("no pairing with that id")
    return pairing_view(found)


@pairings_api.post("/<pairing_id>/end", responses={200: PairingView, 409: Problem})
def end_pairing(path: PairingPath) -> PairingView:
    """End a pairing: no more visits (staff covering it); ending it twice is a conflict."""
    principal = require(*STAFF)
    found = usecases.get_pairing(path.pairing_id)
    if not principal.covers_township(found.township):
        raise NotFound("no pairing with that id")
    return pairing_view(usecases.end_pairing(path.pairing_id))


# --- visits ----------------------------------------------------------------------------------------
@visits_api.get("", responses={200: Page[VisitView]})
def list_visits(query: VisitQuery) -> Page[VisitView]:
    """Visits by township, status (due, requested, done, missed) and pairing (staff)."""
    principal = require(*STAFF)
    found = usecases.list_visits(
        township=township_scope(principal, query.township, "visits"),
        status=query.status,
        pairing_id=query.pairing_id,
        limit=query.limit,
        before=query.before,
    )
    return Page[VisitView](**found.body(visit_view))


@visits_api.get("/<visit_id>", responses={200: VisitView})
def get_visit(path: VisitPath) -> VisitView:
    """One visit (staff covering it, or a paired volunteer)."""
    principal = require()
    found = usecases.get_visit(path.visit_id)
    if principal.sub not in found.volunteer_ids and not principal.covers_township(found.township):
        raise NotFound("no visit with that id")
    return visit_view(found)
