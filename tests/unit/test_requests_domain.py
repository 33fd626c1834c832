"""Rules of the ordering stage, with no servers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.common import contracts
from services.requests.lifecycle import domain as lifecycle
from services.requests.orders import domain
from services.requests.orders.domain import Status
from tests import factories
from tests.factories import NOW


def new_request(**overrides):
    submission = domain.Submission(
        **{
            "resident_id": "resident-1",
            "category": "elder_care",
            "title": "帮忙买菜",
            "description": "腿脚不便",
            "township": "平湖镇",
            "village": "平湖村",
            **overrides,
        }
    )
    request, events = domain.submit(
        submission, request_id="req-1", code="GT-20261129-0001", event_id="ev-0", now=NOW, masked_phone=None
    )
    return request, events


def happy_loop(request_id: str = "req-1"):
    """The events of one happy loop, in the order they happen, each a minute apart."""
    ids = {"task_id": "task-1", "request_id": request_id}
    steps = [
        ("task.offered", factories.task_offered(**ids)),
        ("task.accepted", factories.task_accepted(**ids)),
        ("task.checked_in", factories.task_checked_in(**ids)),
        ("task.completed", factories.task_completed(**ids)),
        ("request.rated", factories.request_rated(request_id=request_id, score=4)),
    ]
    return [
        (kind, data, f"ev-{n}", NOW + timedelta(minutes=n)) for n, (kind, data) in enumerate(steps, start=1)
    ]


def test_submit_carries_the_skills_the_category_needs():
    request, events = new_request(category="study_help")
    (event,) = events
    assert isinstance(event, contracts.RequestSubmitted)
    assert event.skills_required == ["tutoring"]
    assert request.status == Status.SUBMITTED
    assert request.timeline[0].text_zh == "已提交需求"


def test_submit_refuses_an_unknown_category_naming_the_field():
    with pytest.raises(domain.DomainError) as caught:
        new_request(category="juggling")
    assert caught.value.field == "category"


def test_window_must_end_after_it_starts():
    with pytest.raises(domain.DomainError) as caught:
        new_request(window_start=NOW, window_end=NOW - timedelta(hours=1))
    assert caught.value.field == "window.end"


def test_full_loop_ends_closed_with_one_closed_event():
    request, _ = new_request()
    emitted = []
    for kind, data, event_id, at in happy_loop():
        emitted += lifecycle.record(request, kind, data, event_id=event_id, occurred_at=at, now=at).events
    assert request.status == Status.CLOSED
    assert [type(e) for e in emitted] == [contracts.RequestClosed]
    assert request.rating_score == 4
    assert set(request.stage_times) >= {Status.DISPATCHED, Status.ACCEPTED, Status.COMPLETED, Status.CLOSED}


def test_the_same_event_twice_changes_nothing():
    request, _ = new_request()
    kind, data, event_id, at = happy_loop()[0]
    first = lifecycle.record(request, kind, data, event_id=event_id, occurred_at=at, now=at)
    second = lifecycle.record(request, kind, data, event_id=event_id, occurred_at=at, now=at)
    assert first.reached == (Status.DISPATCHED,)
    assert second == lifecycle.Progress()
    assert len(request.timeline) == 2


@settings(max_examples=60, deadline=None)
@given(order=st.permutations(range(5)), duplicates=st.lists(st.integers(0, 4), max_size=4))
def test_any_order_and_repeats_reach_the_same_state(order, duplicates):
    reference, _ = new_request()
    for kind, data, event_id, at in happy_loop():
        lifecycle.record(reference, kind, data, event_id=event_id, occurred_at=at, now=at)

    shuffled, _ = new_request()
    steps = happy_loop()
    closed_events = 0
    for index in [*order, *duplicates]:
        kind, data, event_id, at = steps[index]
        progress = lifecycle.record(shuffled, kind, data, event_id=event_id, occurred_at=at, now=at)
        closed_events += sum(isinstance(e, contracts.RequestClosed) for e in progress.events)

    assert shuffled.status == reference.status == Status.CLOSED
    assert closed_events == 1
    assert [e.kind for e in shuffled.timeline if e.kind != "request.closed"] == [
        e.kind for e in reference.timeline if e.kind != "request.closed"
    ]


def test_escalation_after_an_offer_shows_as_escalated_then_a_new_offer_as_dispatched():
    request, _ = new_request()
    offer = factories.task_offered(request_id="req-1")
    lifecycle.record(request, "task.offered", offer, event_id="e1", occurred_at=NOW, now=NOW)
    lifecycle.record(
        request,
        "task.declined",
        factories.task_declined(request_id="req-1"),
        event_id="e2",
        occurred_at=NOW + timedelta(minutes=1),
        now=NOW,
    )
    lifecycle.record(
        request,
        "request.escalated",
        factories.request_escalated(request_id="req-1"),
        event_id="e3",
        occurred_at=NOW + timedelta(minutes=2),
        now=NOW,
    )
    assert request.status == Status.ESCALATED
    lifecycle.record(
        request,
        "task.offered",
        factories.task_offered(request_id="req-1", attempt=2),
        event_id="e4",
        occurred_at=NOW + timedelta(minutes=3),
        now=NOW,
    )
    assert request.status == Status.DISPATCHED


@pytest.mark.parametrize(
    "status_events, cancellable",
    [
        ([], True),
        (["task.offered"], True),
        (["task.offered", "task.accepted"], True),
        (["task.offered", "task.accepted", "task.checked_in"], False),
        (["task.offered", "task.accepted", "task.completed"], False),
    ],
)
def test_cancel_only_before_service_starts(status_events, cancellable):
    request, _ = new_request()
    for n, kind in enumerate(status_events):
        data = factories.BUILDERS[kind](request_id="req-1")
        lifecycle.record(
            request, kind, data, event_id=f"e{n}", occurred_at=NOW + timedelta(minutes=n), now=NOW
        )
    if cancellable:
        events = domain.cancel(request, by="resident", reason="不需要了", event_id="c1", now=NOW)
        assert [type(e) for e in events] == [contracts.RequestCancelled, contracts.RequestClosed]
        assert request.status == Status.CANCELLED
    else:
        with pytest.raises(domain.NotCancellable):
            domain.cancel(request, by="resident", reason=None, event_id="c1", now=NOW)


def test_rejection_by_review_ends_the_request_with_the_reason():
    request, _ = new_request()
    rejected = factories.request_reviewed(request_id="req-1", decision="rejected", reason="超出服务范围")
    progress = lifecycle.record(
        request, "request.reviewed", rejected, event_id="e1", occurred_at=NOW, now=NOW
    )
    assert request.status == Status.REJECTED
    assert "超出服务范围" in request.timeline[-1].text_zh
    assert [e.outcome for e in progress.events] == ["rejected"]


def test_every_status_has_bilingual_text():
    for status in Status:
        zh, en = domain.STATUS_TEXT[status]
        assert zh and en


def test_every_tracked_event_has_a_description():
    for kind in lifecycle.TRACKED_EVENTS:
        data = factories.BUILDERS[kind]()
        _status, actor, text_zh, text_en, _ = lifecycle._describe(kind, data)
        assert actor and text_zh and text_en


def test_a_request_held_for_review_shows_in_review_then_the_rejection_reason():
    request, _ = new_request()
    pending = factories.request_reviewed(request_id="req-1", decision="pending", reason="审核后派单")
    lifecycle.record(request, "request.reviewed", pending, event_id="e1", occurred_at=NOW, now=NOW)
    assert request.status == Status.IN_REVIEW and domain.rejection_reason(request) is None
    rejected = factories.request_reviewed(request_id="req-1", decision="rejected", reason="超出服务范围")
    later = NOW + timedelta(minutes=5)
    lifecycle.record(request, "request.reviewed", rejected, event_id="e2", occurred_at=later, now=later)
    assert request.status == Status.REJECTED and domain.rejection_reason(request) == "超出服务范围"
