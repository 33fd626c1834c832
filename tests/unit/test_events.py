"""The envelope and the catalogue: every event has a schema, round-trips, and rejects what it must."""

from __future__ import annotations

import json

import pytest

from services.common.events import CATALOGUE, InvalidEvent, make_event, parse_event, routing_key
from tests.factories import BUILDERS

DESIGN_CATALOGUE = {
    "request.submitted",
    "request.cancelled",
    "request.closed",
    "request.reviewed",
    "task.offered",
    "request.pooled",
    "request.escalated",
    "task.accepted",
    "task.declined",
    "task.checked_in",
    "task.completed",
    "volunteer.registered",
    "volunteer.updated",
    "team.updated",
    "pairing.visit_due",
    "request.rated",
    "rating.flagged",
    "followup.resolved",
    # Beyond DESIGN.md's list: the organisation tree announces its stations (docs/adr/0091).
    "station.updated",
    # Staff actions on others' records, for the audit trail the accounts service keeps (docs/adr/0096).
    "audit.recorded",
}


def test_catalogue_is_the_design_catalogue():
    assert {event_type for event_type, _ in CATALOGUE} == DESIGN_CATALOGUE
    assert set(BUILDERS) == DESIGN_CATALOGUE


@pytest.mark.parametrize("event_type", sorted(DESIGN_CATALOGUE))
def test_every_event_round_trips_through_json(event_type):
    data = BUILDERS[event_type]()
    envelope = make_event(data, producer="test", correlation_id="req-1", causation_id="cause-1")
    assert envelope["type"] == event_type
    assert envelope["version"] == 1
    assert envelope["occurred_at"].endswith("Z")

    parsed, parsed_data = parse_event(json.dumps(envelope).encode())

    assert parsed.id == envelope["id"]
    assert parsed.routing_key == routing_key(event_type, 1) == f"{event_type}.v1"
    assert parsed.correlation_id == "req-1" and parsed.causation_id == "cause-1"
    assert parsed_data == data


def test_consumers_ignore_fields_they_do_not_know():
    envelope = make_event(BUILDERS["task.accepted"](), producer="test", correlation_id="r")
    envelope["shiny_new_field"] = 1
    envelope["data"]["another_new_field"] = {"x": 1}
    _, data = parse_event(envelope)
    assert not hasattr(data, "another_new_field")


@pytest.mark.parametrize(
    "mangle, message",
    [
        (lambda e: e.pop("id"), "not an event envelope"),
        (lambda e: e.update(type="task.exploded"), "unknown event"),
        (lambda e: e.update(version=2), "unknown event"),
        (lambda e: e["data"].pop("request_id"), "does not fit its schema"),
        (lambda e: e["data"].update(score=7), "does not fit its schema"),
    ],
)
def test_malformed_events_are_refused(mangle, message):
    envelope = make_event(BUILDERS["request.rated"](), producer="test", correlation_id="r")
    mangle(envelope)
    with pytest.raises(InvalidEvent, match=message):
        parse_event(json.dumps(envelope))


def test_garbage_is_not_an_event():
    with pytest.raises(InvalidEvent):
        parse_event(b"\x00not json")


def test_only_catalogue_models_can_be_wrapped():
    from pydantic import BaseModel

    class Stranger(BaseModel):
        x: int = 1

    with pytest.raises(TypeError):
        make_event(Stranger(), producer="test", correlation_id="r")
