"""Rules of the notifier (docs/adr/0083): who hears of what, on which channels, when, and folded how.

Pure: no I/O. Every notice is stored for the console. Other channels (SMS, WeChat, email) go through a
queue per person, channel and topic:
- quiet hours (default 22:00–07:00 China time) hold SMS and WeChat until they end;
- the first alert of a topic goes out at once and opens a window (10 minutes): alerts within it are
  held and sent as one digest when it closes; a message still waiting (at night, say) absorbs new
  alerts into itself, so a night's alerts arrive as one message in the morning;
- a message is marked `sending` before it is handed to the provider and removed after: a crash in
  between leaves it `sending`, and it is given up as `unknown` rather than sent again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.common.domain import DomainError

CHINA = ZoneInfo("Asia/Shanghai")
SEEN_KEPT = 200
MAX_ATTEMPTS = 5
# A message left `sending` this long was in the hands of a process that died.
SENDING_GIVEN_UP_AFTER = timedelta(minutes=2)


class Channel(enum.StrEnum):
    CONSOLE = "console"
    SMS = "sms"
    WECHAT = "wechat"
    EMAIL = "email"


class Topic(enum.StrEnum):
    OFFER = "offer"  # a task offered to a volunteer or a team's leader
    STATUS = "status"  # a resident's request moved on
    ESCALATION = "escalation"  # a request waits for a dispatcher
    FOLLOWUP = "followup"  # a low rating to call back
    VISIT = "visit"  # a pairing visit is due


QUIET_CHANNELS = frozenset({Channel.SMS, Channel.WECHAT})
DEFAULT_QUIET = ("22:00", "07:00")


class InvalidPreferences(DomainError):
    """Preferences that cannot be kept as asked."""


@dataclass
class Alert:
    """One thing to tell one person."""

    event_id: str
    topic: str
    title: str
    text: str
    request_id: str | None = None
    task_id: str | None = None


@dataclass
class Message:
    """What goes out on a channel: one alert, or a digest of several."""

    id: str
    alerts: list[dict]
    not_before: datetime
    status: str = "queued"  # queued → sending → (removed)
    attempts: int = 0
    claimed_at: datetime | None = None


@dataclass
class ChannelQueue:
    """One person's messages of one topic on one channel; `id` is account:channel:topic."""

    id: str
    account_id: str
    channel: str
    topic: str
    address: str
    window_until: datetime | None = None
    held: list[dict] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    pending: bool = False
    version: int = 1


@dataclass
class Preferences:
    """How a person wants to hear: channels per topic, quiet hours, and where to reach them."""

    id: str
    channels: dict[str, list[str]]
    quiet_start: str | None = DEFAULT_QUIET[0]
    quiet_end: str | None = DEFAULT_QUIET[1]
    phone: str | None = None
    email: str | None = None
    wechat_openid: str | None = None
    version: int = 1


def default_channels(role: str) -> dict[str, list[str]]:
    """What each role hears by default: the console always, SMS for what cannot wait."""
    console, sms, email = Channel.CONSOLE.value, Channel.SMS.value, Channel.EMAIL.value
    if role == "resident":
        return {Topic.STATUS: [console, sms]}
    if role == "volunteer":
        return {Topic.OFFER: [console, sms], Topic.VISIT: [console, sms], Topic.STATUS: [console]}
    if role in ("dispatcher", "admin"):
        return {Topic.ESCALATION: [console, email], Topic.FOLLOWUP: [console, email]}
    return {Topic.STATUS: [console]}


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def quiet_until(now: datetime, start: str | None, end: str | None) -> datetime | None:
    """When the quiet hours around `now` end (None: it is not quiet now). Times are China time."""
    if not start or not end or start == end:
        return None
    local = now.astimezone(CHINA)
    begin, finish = _clock(start), _clock(end)
    moment = local.time()
    overnight = begin > finish
    inside = (moment >= begin or moment < finish) if overnight else (begin <= moment < finish)
    if not inside:
        return None
    day = local.date()
    if overnight and moment >= begin:
        day = day + timedelta(days=1)
    return datetime.combine(day, finish, tzinfo=CHINA).astimezone(now.tzinfo)


def _not_before(channel: str, now: datetime, preferences: Preferences) -> datetime:
    if channel in QUIET_CHANNELS:
        return quiet_until(now, preferences.quiet_start, preferences.quiet_end) or now
    return now


def enqueue(
    queue: ChannelQueue,
    alert: Alert,
    now: datetime,
    preferences: Preferences,
    window: timedelta,
    message_id: str,
) -> bool:
    """Add an alert to the queue (once per event): send now, fold into a waiting message, or hold it."""
    if alert.event_id in queue.seen:
        return False
    queue.seen = [*queue.seen, alert.event_id][-SEEN_KEPT:]
    item = {"event_id": alert.event_id, "title": alert.title, "text": alert.text}
    waiting = next((m for m in queue.messages if m.status == "queued"), None)
    if waiting is not None:
        waiting.alerts.append(item)
    elif queue.window_until is not None and now < queue.window_until:
        queue.held.append(item)
    else:
        queue.messages.append(Message(message_id, [item], _not_before(queue.channel, now, preferences)))
        queue.window_until = now + window
    queue.pending = True
    return True


def take_due(
    queue: ChannelQueue, now: datetime, preferences: Preferences, window: timedelta, message_id: str
) -> tuple[list[Message], list[Message]]:
    """Messages to send now (marked `sending`), and those given up as `unknown` after a crash."""
    if queue.held and queue.window_until is not None and now >= queue.window_until:
        queue.messages.append(
            Message(message_id, list(queue.held), _not_before(queue.channel, now, preferences))
        )
        queue.held = []
        queue.window_until = now + window
    lost = [
        m
        for m in queue.messages
        if m.status == "sending" and m.claimed_at is not None and now - m.claimed_at > SENDING_GIVEN_UP_AFTER
    ]
    queue.messages = [m for m in queue.messages if m not in lost]
    due = [m for m in queue.messages if m.status == "queued" and m.not_before <= now]
    for message in due:
        message.status, message.claimed_at = "sending", now
        message.attempts += 1
    _update_pending(queue)
    return due, lost


def finish(queue: ChannelQueue, message_id: str, sent: bool, now: datetime) -> None:
    """After a send: remove the message, or queue it again with back-off (until attempts run out)."""
    for message in list(queue.messages):
        if message.id != message_id:
            continue
        if sent or message.attempts >= MAX_ATTEMPTS:
            queue.messages.remove(message)
        else:
            message.status, message.claimed_at = "queued", None
            message.not_before = now + timedelta(seconds=30 * 2 ** (message.attempts - 1))
    _update_pending(queue)


def _update_pending(queue: ChannelQueue) -> None:
    queue.pending = bool(queue.messages or queue.held)


def render(message: Message) -> tuple[str, str]:
    """Subject and text: the alert itself, or a digest naming how many and the first few."""
    if len(message.alerts) == 1:
        only = message.alerts[0]
        return only["title"], only["text"]
    titles = "；".join(alert["title"] for alert in message.alerts[:3])
    more = "……" if len(message.alerts) > 3 else ""
    return f"{len(message.alerts)} 条新提醒", f"您有 {len(message.alerts)} 条新提醒：{titles}{more}"


def check_quiet_hours(start: str | None, end: str | None) -> None:
    """Both or neither; HH:MM each."""
    if (start is None) != (end is None):
        raise InvalidPreferences("give both quiet_start and quiet_end, or neither", field="quiet_end")
