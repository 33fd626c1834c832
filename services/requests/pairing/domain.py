"""A pairing visit (结对帮扶) as an order: one request per visit, for the paired volunteers (pure)."""

from __future__ import annotations

from services.common import contracts
from services.requests.catalog.domain import CATEGORIES
from services.requests.orders.domain import Submission

TITLE = "结对帮扶上门探访"
DESCRIPTION = "结对志愿者定期上门探访（Pairing visit by the paired volunteers）"


def beneficiary_account(data: contracts.PairingVisitDue) -> str:
    """Whose order the visit is: the beneficiary's own account, or one named after the beneficiary."""
    return data.resident_id or f"beneficiary:{data.beneficiary_id}"


def visit_order(data: contracts.PairingVisitDue) -> Submission:
    """The order a visit becomes, pre-assigned to the paired volunteers."""
    category = data.category if data.category in CATEGORIES else "elder_care"
    description = DESCRIPTION + (f"：{data.note}" if data.note else "")
    windowed = data.complete_by is not None and data.complete_by > data.due_at
    return Submission(
        resident_id=beneficiary_account(data),
        category=category,
        title=TITLE,
        description=description,
        township=data.township,
        village=data.village,
        address=data.address,
        # The visit's window: from when it falls due until it counts as missed.
        window_start=data.due_at if windowed else None,
        window_end=data.complete_by if windowed else None,
        source="pairing",
        source_ref=data.visit_id,
        preassigned_volunteer_ids=tuple(data.volunteer_ids),
    )
