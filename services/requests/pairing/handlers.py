"""Event entrypoint of pairing visits: `pairing.visit_due` becomes an order, once per visit."""

from __future__ import annotations

from services.common import contracts
from services.common.consumer import HandlerMap
from services.common.events import Envelope
from services.requests.orders import usecases
from services.requests.pairing.domain import visit_order


def on_pairing_visit_due(envelope: Envelope, data: contracts.PairingVisitDue) -> None:
    """Order the visit once: the visit id is the idempotency key."""
    usecases.submit_request(visit_order(data), f"pairing:{data.visit_id}", causation_id=envelope.id)


HANDLERS: HandlerMap = {("pairing.visit_due", 1): on_pairing_visit_due}
