"""Bodies are parsed from raw JSON in strict mode: no coercion, no NUL, no stack overflow, no 500."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask_openapi3 import APIBlueprint
from pydantic import Field

from services.common.app import create_service_app
from services.common.schemas import StrictBody
from services.common.settings import Settings


class Window(StrictBody):
    start: datetime


class RatingBody(StrictBody):
    score: int = Field(ge=1, le=5)
    comment: str | None = Field(None, max_length=200)
    tags: list[str] = Field(default_factory=list)
    window: Window | None = None


@pytest.fixture(scope="module")
def client():
    probe = APIBlueprint("probe", __name__, url_prefix="/probe")

    @probe.post("", responses={200: RatingBody})
    def take(body: RatingBody) -> dict:
        return body.model_dump(mode="json")

    settings = Settings(
        service="probe", mongo_url="mongodb://127.0.0.1:1/probe", jwt_secret="s" * 32, environment="local"
    )
    return create_service_app("probe", settings, [probe], description="probe").test_client()


def post(client, raw: str | bytes, content_type: str = "application/json"):
    return client.post("/probe", data=raw, headers={"Content-Type": content_type})


def test_a_well_typed_body_passes_with_iso_dates(client):
    answer = post(client, '{"score": 5, "window": {"start": "2026-11-30T08:00:00+08:00"}, "tags": ["a"]}')
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["window"]["start"].startswith("2026-11-30")


@pytest.mark.parametrize("score", ["true", '"5"', "5.0", "false", "null"])
def test_wrong_json_types_are_refused_not_coerced(client, score):
    answer = post(client, f'{{"score": {score}}}')
    assert answer.status_code == 422
    assert answer.content_type.startswith("application/problem+json")
    assert answer.get_json()["errors"][0]["field"] == "score"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"score": 4, "comment": "ok\\u0000"}', "comment"),
        ('{"score": 4, "tags": ["a", "b\\u0000c"]}', "tags"),
        ('{"score": 4, "window": {"start": "2026-11-30T08:00:00Z"}, "comment": "\\u0000"}', "comment"),
    ],
)
def test_a_nul_character_is_refused_naming_the_field(client, raw, field):
    answer = post(client, raw)
    assert answer.status_code == 422
    assert answer.get_json()["errors"][0]["field"] == field
    assert "NUL" in answer.get_json()["errors"][0]["detail"]


@pytest.mark.parametrize("depth", [300, 1000, 100_000])
def test_deeply_nested_json_is_a_400_not_a_500(client, depth):
    answer = post(client, "[" * depth + "]" * depth)
    assert answer.status_code == 400
    body = answer.get_json()
    assert body["errors"][0]["field"] == "body"
    assert "recursion" in body["detail"] or "nest" in body["detail"]


def test_nesting_inside_an_object_field_is_a_400_too(client):
    answer = post(client, '{"score": 3, "comment": ' + "[" * 5000 + "]" * 5000 + "}")
    assert answer.status_code == 400


def test_broken_json_is_a_400(client):
    assert post(client, '{"score": 3,').status_code == 400


def test_a_body_that_is_not_json_by_its_media_type_is_a_415(client):
    answer = post(client, '{"score": 3}', content_type="text/plain")
    assert answer.status_code == 415
    assert answer.get_json()["errors"][0]["field"] == "body"


def test_no_body_names_the_missing_fields(client):
    answer = post(client, b"")
    assert answer.status_code == 422
    assert [error["field"] for error in answer.get_json()["errors"]] == ["score"]


def test_flasks_own_parser_survives_deep_nesting(client):
    """Code that calls request.get_json(silent=True) gets None, not a RecursionError."""
    app = client.application
    with app.test_request_context("/x", data="[" * 100_000 + "]" * 100_000, content_type="application/json"):
        from flask import request

        assert request.get_json(silent=True) is None


def test_a_database_whose_storage_is_away_answers_503_not_500():
    from pymongo.errors import OperationFailure

    from services.common import db

    away = OperationFailure(
        "[msg_insert.go:168] failed to connect to `user=postgres database=ferretdb_volunteers`: "
        "server error: FATAL: the database system is not yet accepting connections (SQLSTATE 57P03)",
        code=1,
    )
    broken = OperationFailure("unknown operator: $frobnicate", code=2)
    assert db.backend_unavailable(away) and not db.backend_unavailable(broken)
    probe = APIBlueprint("away", __name__, url_prefix="/away")

    @probe.get("/storage", responses={200: Window})
    def storage() -> dict:
        raise away

    @probe.get("/bug", responses={200: Window})
    def bug() -> dict:
        raise broken

    settings = Settings(
        service="probe", mongo_url="mongodb://127.0.0.1:1/probe", jwt_secret="s" * 32, environment="local"
    )
    client = create_service_app("probe", settings, [probe], description="probe").test_client()
    answer = client.get("/away/storage")
    assert answer.status_code == 503 and answer.headers["Content-Type"].startswith("application/problem+json")
    assert "not" in answer.get_json()["detail"]
    db.forget_unavailable()  # the 503 opened a fail-fast window; the next call is another story
    assert client.get("/away/bug").status_code == 500
    db.forget_unavailable()
