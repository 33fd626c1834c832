"""Follow-ups (回访) in the rating stage, against the real broker and database server."""

from __future__ import annotations

from services.ratings.followups import domain as followups
from services.ratings.followups.models import FollowupDocument
from services.ratings.followups.usecases import measure_open_followups
from services.ratings.metrics import OPEN_FOLLOWUPS
from services.ratings.ratings.models import RateableDocument
from tests import factories
from tests.support import bearer, event, publish, wait_until

SERVICE = "ratings"
PINGHU_STAFF = bearer("dispatcher", "staff-pinghu", township="平湖镇")
OTHER_STAFF = bearer("dispatcher", "staff-chengdong", township="城东街道")


def completed(harness, request_id, resident="resident-fu", township="平湖镇"):
    done = factories.task_completed(request_id=request_id, resident_id=resident, township=township)
    publish(harness.settings.amqp_url, event(done))
    wait_until(lambda: RateableDocument.objects(id=request_id).first(), what="the rating slot")
    return done


def ids(sampled: bool, count: int, prefix: str = "01JFOLLOWUP") -> list[str]:
    """Request ids that the 10 % policy does (or does not) sample."""
    found, n = [], 0
    while len(found) < count:
        candidate = f"{prefix}{n:08d}"
        if followups.sampled(candidate, 10) == sampled:
            found.append(candidate)
        n += 1
    return found


def test_a_low_score_opens_a_follow_up_for_the_township_which_records_the_outcome(harness):
    (request_id,) = ids(sampled=False, count=1)
    completed(harness, request_id)
    rated = harness.call(
        "POST",
        "/api/v1/ratings",
        bearer("resident", "resident-fu"),
        json={"request_id": request_id, "score": 1, "comment": "没有按时来"},
    )
    assert rated.status_code == 201
    wait_until(lambda: FollowupDocument.objects(id=request_id).first(), what="the follow-up")

    listed = harness.call("GET", "/api/v1/followups", PINGHU_STAFF).get_json()["items"]
    item = next(f for f in listed if f["id"] == request_id)
    assert item["reasons"] == ["low_score"] and item["score"] == 1 and item["comment"] == "没有按时来"
    assert item["status"] == "open" and item["resident_id"] == "resident-fu"
    assert request_id not in [
        f["id"] for f in harness.call("GET", "/api/v1/followups", OTHER_STAFF).get_json()["items"]
    ]
    assert harness.call("GET", "/api/v1/followups?township=平湖镇", OTHER_STAFF).status_code == 403
    one = harness.call("GET", f"/api/v1/followups/{request_id}", PINGHU_STAFF)
    assert one.status_code == 200 and one.get_json()["request_id"] == request_id
    assert harness.call("GET", f"/api/v1/followups/{request_id}", OTHER_STAFF).status_code == 404
    first_page = harness.call("GET", "/api/v1/followups?limit=1", PINGHU_STAFF).get_json()
    assert len(first_page["items"]) == 1 and first_page["next_before"] == first_page["items"][0]["id"]
    assert harness.call("GET", "/api/v1/followups", bearer("resident", "resident-fu")).status_code == 403

    measure_open_followups()
    assert OPEN_FOLLOWUPS.labels("平湖镇")._value.get() >= 1
    open_before = OPEN_FOLLOWUPS.labels("平湖镇")._value.get()

    path = f"/api/v1/followups/{request_id}/resolve"
    assert harness.call("POST", path, OTHER_STAFF, json={"outcome": "resolved"}).status_code == 404
    bad = harness.call("POST", path, PINGHU_STAFF, json={"outcome": "forgotten"})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "outcome"
    done = harness.call(
        "POST", path, PINGHU_STAFF, json={"outcome": "resolved", "note": "已联系志愿者重新上门"}
    )
    assert done.status_code == 200 and done.get_json()["resolved_by"] == "staff-pinghu"
    announced = harness.bus.wait_for("followup.resolved", request_id=request_id)
    assert announced.data["outcome"] == "resolved" and announced.data["township"] == "平湖镇"
    assert harness.call("POST", path, PINGHU_STAFF, json={"outcome": "satisfied"}).status_code == 409
    measure_open_followups()
    assert OPEN_FOLLOWUPS.labels("平湖镇")._value.get() == open_before - 1


def test_a_share_of_completed_requests_is_sampled_by_id(harness):
    chosen, skipped = ids(True, 2, "01JSAMPLED"), ids(False, 3, "01JSAMPLED")
    for request_id in chosen + skipped:
        completed(harness, request_id, township="城东街道")
    for request_id in chosen:
        wait_until(lambda r=request_id: FollowupDocument.objects(id=r).first(), what="the sampled follow-up")
    # Redelivery or a second worker samples the same ids; the skipped ones never get one.
    completed(harness, chosen[0], township="城东街道")
    assert FollowupDocument.objects(id__in=skipped).count() == 0
    sampled = harness.call("GET", "/api/v1/followups?reason=sampled", OTHER_STAFF).get_json()["items"]
    assert {f["id"] for f in sampled} >= set(chosen)

    # A sampled request rated low keeps one follow-up with both reasons.
    harness.call(
        "POST",
        "/api/v1/ratings",
        bearer("resident", "resident-fu"),
        json={"request_id": chosen[1], "score": 2},
    )
    wait_until(
        lambda: FollowupDocument.objects(id=chosen[1]).first().reasons == ["sampled", "low_score"],
        what="the low score added to the sampled follow-up",
    )
