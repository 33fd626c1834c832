"""Accounts' use cases on the in-memory store: a person's notices page by shelf, the badge by its flag."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.accounts.notifications import usecases as notifications
from services.accounts.notifications.domain import Alert
from services.accounts.notifications.models import notices_store
from services.accounts.people import usecases as people
from services.accounts.people.domain import NewAccount, Role
from services.common import memory_tables, tables
from services.common.events import make_event, parse_event
from services.common.settings import Settings
from tests import factories

SETTINGS = Settings(service="accounts")


@pytest.fixture(autouse=True)
def memory() -> Iterator[memory_tables.MemoryBackend]:
    """Every test on a fresh in-memory backend."""
    with tables.in_memory() as backend:
        yield backend


def escalation(number: int):
    """An envelope of `request.escalated` and the alert a dispatcher gets for it."""
    data = factories.request_escalated(township="凤都镇", reason=f"no one fits ({number})")
    envelope, _ = parse_event(make_event(data, producer="test", correlation_id=data.request_id))
    return envelope, Alert(
        envelope.id, "escalation", "待人工派单", f"no one fits ({number})", data.request_id
    )


def test_notices_page_newest_first_and_the_badge_counts_only_the_unread(memory):
    staff = people.create_account(
        NewAccount("disp.memory", Role.DISPATCHER, "disp", township="凤都镇"), "茶园-桥头-2026", "test"
    )
    envelopes = [escalation(number) for number in range(130)]
    for envelope, alert in envelopes:
        notifications.notify(envelope, [staff], alert, SETTINGS)
    # The same event again stores nothing new (the notice's source is the event and the person).
    envelope, alert = envelopes[0]
    notifications.notify(envelope, [staff], alert, SETTINGS)
    seen, before = [], None
    while True:
        page = notifications.list_notices(staff.id, unread=False, limit=20, before=before)
        seen += [notice["_id"] for notice in page]
        if page.next_before is None:
            break
        before = page.next_before
    stored = sorted((n["_id"] for n in notices_store.find(account_id=staff.id)), reverse=True)
    assert seen == stored and len(stored) == 130
    assert notifications.unread_count(staff.id) == 130
    notifications.mark_read(staff.id, seen[0])
    assert notifications.unread_count(staff.id) == 129
    unread = notifications.list_notices(staff.id, unread=True, limit=200, before=None)
    assert seen[0] not in [n["_id"] for n in unread] and len(unread) == 129
    assert notifications.mark_all_read(staff.id) == 129
    assert notifications.unread_count(staff.id) == 0
    # Lists and the badge asked only by equality on shelves, flags and owners, never a scan.
    asked = {fields for kind, fields in memory.tables["notices"].queries if kind in ("find", "count")}
    assert asked <= {("account_shelf",), ("unread_by",), ("account_id",)}, asked


def test_the_accounts_list_walks_the_township_shelf_and_filters_by_role():
    made = [
        people.create_account(
            NewAccount(f"user.{n}", Role.DISPATCHER if n % 3 else Role.ADMIN, f"u{n}", township="凤都镇"),
            "茶园-桥头-2026",
            "test",
        )
        for n in range(9)
    ]
    people.create_account(
        NewAccount("elsewhere", Role.ADMIN, "e", township="平湖镇"), "茶园-桥头-2026", "test"
    )
    admins = people.list_accounts(role="admin", township="凤都镇", limit=10, before=None)
    assert [a.id for a in admins] == sorted((a.id for a in made if a.role == Role.ADMIN), reverse=True)
    assert admins.next_before is None
