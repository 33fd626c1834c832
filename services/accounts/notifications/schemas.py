"""HTTP bodies and views of notifications; they double as their OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from services.accounts.notifications.domain import Channel, Preferences, Topic
from services.common.paging import PageQuery
from services.common.schemas import Phone, StrictBody, View, refuse_null

Clock = str
CLOCK_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class NoticeQuery(PageQuery):
    unread: bool = Field(False, description="only the unread ones")


class NoticePath(BaseModel):
    notice_id: str = Field(min_length=1, max_length=64)


class NoticeView(View):
    """One notice: what happened, about which request or task, and whether it was read."""

    id: str
    topic: Topic
    event_type: str
    title: str
    text: str
    request_id: str | None
    task_id: str | None
    created_at: datetime
    read_at: datetime | None


class NoticePage(View):
    items: list[NoticeView]
    next_before: str | None = None
    unread: int = Field(description="unread notices in all")


class MarkedRead(View):
    marked: int


class PreferencesView(View):
    """Channels per topic (console always included), quiet hours (China time) and addresses."""

    channels: dict[Topic, list[Channel]]
    quiet_start: Clock | None = Field(description="SMS and WeChat wait from here…")
    quiet_end: Clock | None = Field(description="…until here (e.g. 22:00 to 07:00)")
    phone_masked: str | None
    email: str | None
    wechat_bound: bool


class PreferencesChange(StrictBody):
    channels: dict[Topic, list[Channel]] | None = None
    quiet_start: str | None = Field(None, pattern=CLOCK_PATTERN)
    quiet_end: str | None = Field(None, pattern=CLOCK_PATTERN)
    phone: Phone | None = None
    email: str | None = Field(None, pattern=r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$", max_length=254)
    wechat_openid: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{10,64}$")

    # Channels may be left out (no change), never null: the stored preferences must have them
    # (a null was stored, then every read of them was a 500; found by `make fuzz`).
    _kept = refuse_null("channels")


class InboxQuery(BaseModel):
    to: str = Field(min_length=3, max_length=254, description="a phone number, email or WeChat openid")
    limit: int = Field(20, ge=1, le=100)


class InboxMessage(View):
    """A message a switched-off channel would have sent, with the provider request it built."""

    id: str
    channel: str
    to: str
    subject: str
    text: str
    request: dict[str, Any]
    created_at: datetime


class InboxView(View):
    items: list[InboxMessage]


def notice_view(notice: dict[str, Any]) -> NoticeView:
    """A stored notice as the API shows it."""
    return NoticeView(
        id=notice["_id"],
        topic=notice["topic"],
        event_type=notice["event_type"],
        title=notice["title"],
        text=notice["text"],
        request_id=notice.get("request_id"),
        task_id=notice.get("task_id"),
        created_at=notice["created_at"],
        read_at=notice.get("read_at"),
    )


def preferences_view(preferences: Preferences, phone: str | None, mask: Any) -> PreferencesView:
    """Preferences as the API shows them (the phone masked)."""
    channels = {Topic(topic): [Channel(c) for c in chosen] for topic, chosen in preferences.channels.items()}
    return PreferencesView(
        channels=channels,
        quiet_start=preferences.quiet_start,
        quiet_end=preferences.quiet_end,
        phone_masked=mask(preferences.phone or phone),
        email=preferences.email,
        wechat_bound=bool(preferences.wechat_openid),
    )
