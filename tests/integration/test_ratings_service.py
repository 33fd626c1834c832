"""The rating stage against the real broker and database server."""

from __future__ import annotations

from services.ratings.ratings.models import RateableDocument
from tests import factories
from tests.support import bearer, event, publish, wait_until

SERVICE = "ratings"
RESIDENT = bearer("resident", "resident-it-r")


def completed(harness, **overrides):
    done = factories.task_completed(resident_id="resident-it-r", **overrides)
    publish(harness.settings.amqp_url, event(done))
    wait_until(lambda: RateableDocument.objects(id=done.request_id).first(), what="the rating slot")
    return done


def rate(harness, request_id, score=5, headers=RESIDENT, **extra):
    return harness.call(
        "POST", "/api/v1/ratings", headers, json={"request_id": request_id, "score": score, **extra}
    )


def test_the_resident_rates_once_and_it_is_announced(harness):
    done = completed(harness)
    response = rate(harness, done.request_id, comment="志愿者很耐心")
    assert response.status_code == 201 and response.get_json()["score"] == 5
    rated = harness.bus.wait_for("request.rated", request_id=done.request_id)
    assert rated.data["volunteer_id"] == done.volunteer_id and rated.data["comment"] == "志愿者很耐心"
    again = rate(harness, done.request_id, score=1)
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert RateableDocument.objects(id=done.request_id).first().score == 5
    seen_by_volunteer = harness.call(
        "GET", f"/api/v1/ratings/{done.request_id}", bearer("volunteer", done.volunteer_id)
    )
    assert seen_by_volunteer.get_json()["score"] == 5


def test_bad_ratings_are_problems_that_change_nothing(harness):
    done = completed(harness)
    seven = rate(harness, done.request_id, score=7)
    assert seven.status_code == 422 and seven.get_json()["errors"][0]["field"] == "score"
    stranger = rate(harness, done.request_id, headers=bearer("resident", "someone-else"))
    assert stranger.status_code == 403 and stranger.get_json()["errors"][0]["field"] == "request_id"
    too_early = rate(harness, "req-never-completed")
    assert too_early.status_code == 409
    assert RateableDocument.objects(id=done.request_id).first().status == "awaiting"
    assert harness.bus.of_type("request.rated", request_id=done.request_id) == []


def test_a_low_score_raises_a_flag(harness):
    done = completed(harness)
    assert rate(harness, done.request_id, score=2).status_code == 201
    flagged = harness.bus.wait_for("rating.flagged", request_id=done.request_id)
    assert flagged.data["score"] == 2


def test_a_cancelled_request_cannot_be_rated(harness):
    cancelled = factories.request_cancelled(resident_id="resident-it-r")
    publish(harness.settings.amqp_url, event(cancelled))
    wait_until(lambda: RateableDocument.objects(id=cancelled.request_id).first(), what="the cancelled slot")
    assert rate(harness, cancelled.request_id).status_code == 409
