"""The event envelope every message on the bus carries, and the catalogue of what may be inside."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.common import contracts
from services.common.ids import isoformat, new_id, utcnow


class Envelope(BaseModel):
    """Metadata around an event's data; unknown fields are ignored, as consumers must."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1)
    type: str = Field(min_length=1)
    version: int = Field(ge=1)
    occurred_at: datetime
    producer: str
    correlation_id: str
    causation_id: str | None = None
    data: dict[str, Any]

    @property
    def routing_key(self) -> str:
        """`type.vN`, the key the topic exchange routes on."""
        return routing_key(self.type, self.version)


class InvalidEvent(ValueError):
    """A message that is not a known event of the catalogue; it goes to the dead-letter queue."""


CATALOGUE: dict[tuple[str, int], type[BaseModel]] = {
    ("request.submitted", 1): contracts.RequestSubmitted,
    ("request.cancelled", 1): contracts.RequestCancelled,
    ("request.closed", 1): contracts.RequestClosed,
    ("request.reviewed", 1): contracts.RequestReviewed,
    ("task.offered", 1): contracts.TaskOffered,
    ("request.pooled", 1): contracts.RequestPooled,
    ("request.escalated", 1): contracts.RequestEscalated,
    ("task.accepted", 1): contracts.TaskAccepted,
    ("task.declined", 1): contracts.TaskDeclined,
    ("task.checked_in", 1): contracts.TaskCheckedIn,
    ("task.completed", 1): contracts.TaskCompleted,
    ("volunteer.registered", 1): contracts.VolunteerRegistered,
    ("volunteer.updated", 1): contracts.VolunteerUpdated,
    ("team.updated", 1): contracts.TeamUpdated,
    ("station.updated", 1): contracts.StationUpdated,
    ("pairing.visit_due", 1): contracts.PairingVisitDue,
    ("request.rated", 1): contracts.RequestRated,
    ("rating.flagged", 1): contracts.RatingFlagged,
    ("followup.resolved", 1): contracts.FollowupResolved,
    ("audit.recorded", 1): contracts.AuditRecorded,
}

_TYPE_OF_MODEL = {model: key for key, model in CATALOGUE.items()}


def routing_key(event_type: str, version: int) -> str:
    """The routing key of an event type at a version."""
    return f"{event_type}.v{version}"


def make_event(
    data: BaseModel,
    *,
    producer: str,
    correlation_id: str,
    causation_id: str | None = None,
    occurred_at: datetime | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """A new envelope (as a plain dict, ready for an outbox) around a catalogue data model."""
    try:
        event_type, version = _TYPE_OF_MODEL[type(data)]
    except KeyError:
        raise TypeError(f"{type(data).__name__} is not an event of the catalogue") from None
    return {
        "id": event_id or new_id(),
        "type": event_type,
        "version": version,
        "occurred_at": isoformat(occurred_at or utcnow()),
        "producer": producer,
        "correlation_id": correlation_id,
        "causation_id": causation_id,
        "data": data.model_dump(mode="json"),
    }


def envelopes(
    events: Sequence[BaseModel],
    *,
    producer: str,
    correlation_id: str,
    causation_id: str | None = None,
    occurred_at: datetime | None = None,
    first_event_id: str | None = None,
) -> list[dict[str, Any]]:
    """Envelopes around the events one decision caused, all correlated and caused alike.

    `first_event_id` fixes the first event's id when the caller had to know it beforehand (an
    aggregate that records its own first event in its history).
    """
    moment = occurred_at or utcnow()
    return [
        make_event(
            data,
            producer=producer,
            correlation_id=correlation_id,
            causation_id=causation_id,
            occurred_at=moment,
            event_id=first_event_id if index == 0 else None,
        )
        for index, data in enumerate(events)
    ]


def parse_event(body: bytes | str | dict[str, Any]) -> tuple[Envelope, BaseModel]:
    """The envelope and its typed data; `InvalidEvent` when either does not fit the catalogue."""
    try:
        envelope = (
            Envelope.model_validate(body) if isinstance(body, dict) else Envelope.model_validate_json(body)
        )
    except ValidationError as error:
        raise InvalidEvent(f"not an event envelope: {error}") from error
    model = CATALOGUE.get((envelope.type, envelope.version))
    if model is None:
        raise InvalidEvent(f"unknown event {envelope.type} v{envelope.version}")
    try:
        data = model.model_validate(envelope.data)
    except ValidationError as error:
        raise InvalidEvent(
            f"{envelope.type} v{envelope.version} data does not fit its schema: {error}"
        ) from error
    return envelope, data
