"""HTTP entrypoints of notifications: my notices, marking them read, my channels and quiet hours, and
(local profiles only) the development inbox."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from services.accounts.notifications import usecases
from services.accounts.notifications.schemas import (
    InboxMessage,
    InboxQuery,
    InboxView,
    MarkedRead,
    NoticePage,
    NoticePath,
    NoticeQuery,
    NoticeView,
    PreferencesChange,
    PreferencesView,
    notice_view,
    preferences_view,
)
from services.accounts.people import usecases as people
from services.accounts.people.domain import Account, normalise_phone
from services.accounts.sessions import usecases as sessions
from services.common.auth import mask_phone, require
from services.common.errors import NotFound
from services.common.schemas import ERROR_RESPONSES

notifications_api = APIBlueprint(
    "notifications",
    __name__,
    url_prefix="/api/v1/notifications",
    abp_tags=[Tag(name="notifications", description="通知")],
    abp_security=[{"bearer": []}],
    abp_responses=ERROR_RESPONSES,
)
dev_inbox_api = APIBlueprint(
    "dev_inbox",
    __name__,
    url_prefix="/api/v1/dev",
    abp_tags=[Tag(name="development", description="local profiles only")],
    abp_responses=ERROR_RESPONSES,
)


def my_account() -> Account:
    """The caller's account: through their session, or (an operator's token) by their subject."""
    principal = require()
    session = sessions.get_session(principal.session_id) if principal.session_id else None
    if session is not None:
        return people.get_account(session.account_id)
    found = people.accounts_of_subject(principal.sub)
    if not found:
        raise NotFound("no account belongs to this token")
    return found[0]


@notifications_api.get("", responses={200: NoticePage})
def list_notices(query: NoticeQuery) -> NoticePage:
    """My notices, newest first (`unread=true` for the unread ones), and how many are unread."""
    account = my_account()
    found = usecases.list_notices(account.id, unread=query.unread, limit=query.limit, before=query.before)
    return NoticePage(
        items=[notice_view(notice) for notice in found],
        next_before=found[-1]["_id"] if found and len(found) == query.limit else None,
        unread=usecases.unread_count(account.id),
    )


@notifications_api.post("/<notice_id>/read", responses={200: NoticeView})
def mark_read(path: NoticePath) -> NoticeView:
    """Mark one of my notices read."""
    return notice_view(usecases.mark_read(my_account().id, path.notice_id))


@notifications_api.post("/read-all", responses={200: MarkedRead})
def mark_all_read() -> MarkedRead:
    """Mark all my notices read."""
    return MarkedRead(marked=usecases.mark_all_read(my_account().id))


@notifications_api.get("/preferences", responses={200: PreferencesView})
def get_preferences() -> PreferencesView:
    """My channels per topic, quiet hours and addresses."""
    account = my_account()
    return preferences_view(usecases.preferences_of(account), account.phone, mask_phone)


@notifications_api.put("/preferences", responses={200: PreferencesView})
def put_preferences(body: PreferencesChange) -> PreferencesView:
    """Change what I hear where, and when SMS and WeChat keep quiet; fields left out stay."""
    account = my_account()
    changes = body.model_dump(exclude_unset=True, mode="json")
    if changes.get("phone"):
        changes["phone"] = normalise_phone(changes["phone"])
    if "channels" in changes and changes["channels"] is not None:
        changes["channels"] = {
            topic: sorted(set(chosen) | {"console"}) for topic, chosen in changes["channels"].items()
        }
    preferences = usecases.set_preferences(account, **changes)
    return preferences_view(preferences, account.phone, mask_phone)


@dev_inbox_api.get("/inbox", responses={200: InboxView})
def dev_inbox(query: InboxQuery) -> InboxView:
    """What switched-off channels would have sent to an address, newest first: how a resident reads
    their login code in `make run`. Exists only in local profiles."""
    to = query.to
    if to[:1].isdigit() or to.startswith("+"):
        to = normalise_phone(to)
    return InboxView(
        items=[
            InboxMessage(
                id=item["_id"],
                channel=item["channel"],
                to=item["to"],
                subject=item["subject"],
                text=item["text"],
                request=item.get("request") or {},
                created_at=item["created_at"],
            )
            for item in usecases.dev_inbox(to, query.limit)
        ]
    )
