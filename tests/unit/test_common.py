"""Mechanisms of services/common that need no servers: tokens, problems, topology, settings."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from pydantic import BaseModel, Field, ValidationError

from services.common import auth, topology
from services.common.app import domain_problem
from services.common.consumer import combine_handlers
from services.common.domain import DomainError
from services.common.errors import validation_problem
from services.common.settings import Settings
from services.ratings.ratings.domain import NotYourRequest
from services.requests.orders.domain import NotCancellable
from services.volunteers.tasks.domain import NotYourTask

SECRET = "unit-test-secret-0123456789-abcdefghij"


def verifier():
    return auth.TokenVerifier(Settings(service="requests", jwt_secret=SECRET, environment="local"))


def test_tokens_carry_role_and_township():
    token = auth.issue_token(SECRET, sub="d1", role="dispatcher", township="平湖镇")
    principal = verifier().verify(token)
    assert principal == auth.Principal(sub="d1", role=auth.Role.DISPATCHER, township="平湖镇")
    assert principal.covers_township("平湖镇") and not principal.covers_township("大桥镇")


def test_county_staff_cover_every_township_and_residents_none():
    county = verifier().verify(auth.issue_token(SECRET, sub="a", role="admin"))
    resident = verifier().verify(auth.issue_token(SECRET, sub="r", role="resident"))
    assert county.covers_township("大桥镇")
    assert not resident.covers_township("大桥镇")


@pytest.mark.parametrize(
    "token, message",
    [
        (auth.issue_token(SECRET, sub="x", role="resident", ttl=timedelta(seconds=-5)), "expired"),
        (auth.issue_token("another-secret-of-enough-length-000000", sub="x", role="resident"), "not valid"),
        (jwt.encode({"sub": "x", "role": "mayor", "exp": 2**31, "iss": "civicloop"}, SECRET), "unknown role"),
        (jwt.encode({"sub": "x", "role": "resident", "iss": "civicloop"}, SECRET), "not valid"),
        ("not-a-jwt", "not valid"),
    ],
)
def test_bad_tokens_are_refused(token, message):
    with pytest.raises(auth.Unauthorized, match=message):
        verifier().verify(token)


@pytest.mark.parametrize(
    "phone, masked",
    [("13812345678", "138****5678"), ("+8613812345678", "+86*******5678"), ("1234", "****"), (None, None)],
)
def test_phones_are_masked(phone, masked):
    assert auth.mask_phone(phone) == masked


class Inner(BaseModel):
    end: int = Field(gt=0)


class Body(BaseModel):
    category: str
    window: Inner
    items: list[int] = []


def test_validation_problems_name_each_field():
    with pytest.raises(ValidationError) as caught:
        Body.model_validate({"window": {"end": 0}, "items": [1, "x"]})
    problem = validation_problem(caught.value)
    fields = [error["field"] for error in problem.extensions["errors"]]
    assert fields == ["category", "window.end", "items[1]"]
    assert problem.status == 422
    assert problem.body("/x")["detail"].startswith("category: Field required")


def test_a_non_object_body_is_named_as_the_body():
    with pytest.raises(ValidationError) as caught:
        Body.model_validate(None)
    (error,) = validation_problem(caught.value).extensions["errors"]
    assert error == {"field": "body", "detail": "the body must be a JSON object"}


def test_the_main_queue_is_quorum_with_dead_lettering_and_a_delivery_limit():
    queue = topology.main_queue("ratings", ["task.completed.v1", "request.cancelled.v1"], delivery_limit=7)
    assert queue.name == "ratings.events"
    arguments = queue.queue_arguments
    assert arguments["x-queue-type"] == "quorum"
    assert arguments["x-dead-letter-exchange"] == "civicloop.dead"
    assert arguments["x-dead-letter-routing-key"] == "ratings"
    assert arguments["x-delivery-limit"] == 7
    assert sorted(b.routing_key for b in queue.bindings) == ["request.cancelled.v1", "task.completed.v1"]


def test_retry_queues_return_to_the_main_queue():
    queues = topology.retry_queues("dispatch", 3)
    assert [q.name for q in queues] == ["dispatch.retry.1", "dispatch.retry.2", "dispatch.retry.3"]
    assert all(q.queue_arguments["x-dead-letter-routing-key"] == "dispatch.events" for q in queues)


def test_retry_delays_read_from_a_comma_list(monkeypatch):
    monkeypatch.setenv("CIVICLOOP_RETRY_DELAYS", "0.2, 0.5,1")
    assert Settings(service="ratings").retry_delays == [0.2, 0.5, 1.0]


def test_database_name_comes_from_the_url():
    assert (
        Settings(service="ratings", mongo_url="mongodb://h:1/e2e_ratings?x=1").database_name == "e2e_ratings"
    )


@pytest.mark.parametrize(
    "error, status, slug",
    [
        (NotCancellable("under way"), 409, "not-cancellable"),
        (NotYourTask("not yours"), 404, "not-your-task"),
        (NotYourRequest("not yours", field="request_id"), 403, "not-your-request"),
        (DomainError("bad hours", field="hours"), 422, "domain-error"),
    ],
)
def test_each_kind_of_refusal_becomes_its_problem(error, status, slug):
    problem = domain_problem(error)
    body = problem.body("/x")
    assert problem.status == status
    assert body["type"].endswith("/" + slug)
    if error.field:
        assert body["errors"] == [{"field": error.field, "detail": str(error)}]


def test_combined_handlers_run_every_feature_in_turn_for_a_shared_event():
    calls = []
    first = {("task.completed", 1): lambda e, d: calls.append(("hours", d)), ("request.pooled", 1): print}
    second = {("task.completed", 1): lambda e, d: calls.append(("pairing", d))}
    combined = combine_handlers(first, second)
    assert set(combined) == {("task.completed", 1), ("request.pooled", 1)}
    assert combined[("request.pooled", 1)] is print
    combined[("task.completed", 1)](None, "data")
    assert calls == [("hours", "data"), ("pairing", "data")]
