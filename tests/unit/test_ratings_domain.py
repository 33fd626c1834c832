"""Rules of the rating stage, with no servers."""

from __future__ import annotations

import pytest

from services.common import contracts
from services.ratings.ratings import domain
from services.ratings.ratings.domain import RateableStatus
from tests import factories
from tests.factories import NOW


def rateable():
    return domain.from_completion(
        factories.task_completed(request_id="req-1", resident_id="r1", volunteer_id="v1")
    )


def rate(slot, resident="r1", score=5):
    return domain.rate(slot, resident_id=resident, score=score, comment="很好", rating_id="rt-1", now=NOW)


def test_the_resident_rates_once():
    slot = rateable()
    (event,) = rate(slot)
    assert isinstance(event, contracts.RequestRated)
    assert event.volunteer_id == "v1" and slot.status == RateableStatus.RATED
    with pytest.raises(domain.NotRateable):
        rate(slot)


def test_someone_else_cannot_rate():
    slot = rateable()
    with pytest.raises(domain.NotYourRequest):
        rate(slot, resident="r2")
    assert slot.status == RateableStatus.AWAITING


@pytest.mark.parametrize("score", [0, 6, 7])
def test_scores_are_one_to_five(score):
    slot = rateable()
    with pytest.raises(domain.DomainError) as caught:
        rate(slot, score=score)
    assert caught.value.field == "score"
    assert slot.status == RateableStatus.AWAITING


@pytest.mark.parametrize("score, flagged", [(1, True), (2, True), (3, False), (5, False)])
def test_low_scores_are_flagged_for_a_follow_up(score, flagged):
    events = rate(rateable(), score=score)
    assert any(isinstance(e, contracts.RatingFlagged) for e in events) is flagged


def test_cancelled_before_completion_cannot_be_rated():
    slot = domain.Rateable(
        id="req-1", status=RateableStatus.AWAITING, resident_id="r1", township="平湖镇", category="elder_care"
    )
    assert domain.cancel(slot)
    with pytest.raises(domain.NotRateable):
        rate(slot)


def test_a_completed_service_stays_rateable_after_a_late_cancellation():
    slot = rateable()
    assert not domain.cancel(slot)
    assert slot.status == RateableStatus.AWAITING
