"""Bodies, queries and views of the pairing API; they double as its OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.common.auth import Principal, mask_phone
from services.common.county import Township
from services.common.paging import PageQuery
from services.common.schemas import Phone, StrictBody, View
from services.volunteers.pairing.domain import Beneficiary, Flag, Pairing, Visit

VisitStatusName = Literal["due", "requested", "done", "missed"]


# --- beneficiaries ---------------------------------------------------------------------------------
class BeneficiaryCreate(StrictBody):
    name: str = Field(min_length=1, max_length=50)
    township: Township
    village: str = Field(min_length=1, max_length=50)
    flags: list[Flag] = Field(default_factory=list, max_length=7)
    address: str | None = Field(None, max_length=200)
    phone: Phone | None = None
    resident_id: str | None = Field(None, max_length=64, description="their (or their family's) account")


class BeneficiaryQuery(PageQuery):
    township: Township | None = None
    flag: Flag | None = None


class BeneficiaryPath(BaseModel):
    beneficiary_id: str = Field(min_length=1, max_length=64)


class BeneficiaryView(View):
    """Someone paired volunteers visit; the phone in full only for staff and their own account."""

    id: str
    name: str
    township: Township
    village: str
    flags: list[Flag]
    registered_at: datetime
    address: str | None
    phone: str | None
    resident_id: str | None


def beneficiary_view(beneficiary: Beneficiary, viewer: Principal) -> BeneficiaryView:
    """The beneficiary as `viewer` may see them."""
    own_or_staff = viewer.is_staff or viewer.sub == beneficiary.resident_id
    return BeneficiaryView(
        id=beneficiary.id,
        name=beneficiary.name,
        township=beneficiary.township,
        village=beneficiary.village,
        flags=beneficiary.flags,
        registered_at=beneficiary.registered_at,
        address=beneficiary.address,
        phone=beneficiary.phone if own_or_staff else mask_phone(beneficiary.phone),
        resident_id=beneficiary.resident_id,
    )


# --- pairings --------------------------------------------------------------------------------------
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


class PairingView(View):
    """Volunteers paired with a beneficiary, and their visit schedule."""

    id: str
    kind: Literal["one_to_one", "many_to_one"]
    beneficiary_id: str
    volunteer_ids: list[str]
    township: str
    village: str
    every_days: int
    grace_hours: int
    next_due_at: datetime
    created_at: datetime
    category: str
    note: str | None
    active: bool
    visits_made: int


def pairing_view(pairing: Pairing) -> PairingView:
    """A pairing with its kind (一对一 or 多对一)."""
    return PairingView(
        id=pairing.id,
        kind=pairing.kind,
        beneficiary_id=pairing.beneficiary_id,
        volunteer_ids=pairing.volunteer_ids,
        township=pairing.township,
        village=pairing.village,
        every_days=pairing.every_days,
        grace_hours=pairing.grace_hours,
        next_due_at=pairing.next_due_at,
        created_at=pairing.created_at,
        category=pairing.category,
        note=pairing.note,
        active=pairing.active,
        visits_made=pairing.visits_made,
    )


# --- visits ----------------------------------------------------------------------------------------
class VisitQuery(PageQuery):
    township: Township | None = None
    status: VisitStatusName | None = None
    pairing_id: str | None = Field(None, max_length=64)


class VisitPath(BaseModel):
    visit_id: str = Field(min_length=1, max_length=100)


class VisitView(View):
    """One scheduled visit, the order that serves it, and what became of it."""

    id: str
    pairing_id: str
    beneficiary_id: str
    volunteer_ids: list[str]
    township: str
    village: str
    due_at: datetime
    complete_by: datetime
    status: VisitStatusName
    request_id: str | None
    task_id: str | None
    done_at: datetime | None
    done_by: list[str]
    missed_at: datetime | None


def visit_view(visit: Visit) -> VisitView:
    """A visit as staff and its volunteers see it."""
    return VisitView(
        id=visit.id,
        pairing_id=visit.pairing_id,
        beneficiary_id=visit.beneficiary_id,
        volunteer_ids=visit.volunteer_ids,
        township=visit.township,
        village=visit.village,
        due_at=visit.due_at,
        complete_by=visit.complete_by,
        status=visit.status.value,
        request_id=visit.request_id,
        task_id=visit.task_id,
        done_at=visit.done_at,
        done_by=visit.done_by,
        missed_at=visit.missed_at,
    )
