"""A web process whose database or broker is away answers 503 problem+json, and writes nothing."""

from __future__ import annotations

import pytest

from services.requests import create_app
from tests.support import bearer, integration_settings

pytestmark = pytest.mark.integration
BODY = {"category": "elder_care", "title": "t", "description": "d", "township": "平湖镇", "village": "v"}


@pytest.fixture()
def app_without_database():
    settings = integration_settings(
        "requests", mongo_url="mongodb://127.0.0.1:9/it_nowhere", db_timeout_ms=300
    )
    app = create_app(settings)
    yield app.test_client()
    from services.common import db

    db.connect_database(integration_settings("requests"))


def test_writes_get_a_clear_503_while_the_database_is_away(app_without_database):
    response = app_without_database.post("/api/v1/requests", json=BODY, headers=bearer("resident", "r1"))
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "5"
    assert "nothing was written" in response.get_json()["detail"]


def test_readiness_names_the_missing_dependency(app_without_database):
    response = app_without_database.get("/readyz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["broker"] == "ok" and checks["database"] != "ok"
    assert app_without_database.get("/healthz").status_code == 200


def test_readiness_fails_without_the_broker():
    settings = integration_settings("requests", amqp_url="amqp://guest:guest@127.0.0.1:9/nowhere")
    client = create_app(settings).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"] == "ok"
    assert response.get_json()["checks"]["broker"] != "ok"
