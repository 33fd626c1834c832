"""Use cases of the notifier: lifecycle events become notices and queued messages; the worker's sweep
sends what is due; people read their notices and choose their channels."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from services.accounts.codes import usecases as codes
from services.accounts.metrics import NOTIFICATIONS
from services.accounts.notifications import domain
from services.accounts.notifications.channels import ChannelAdapter, Outgoing, SendFailed, adapters
from services.accounts.notifications.domain import Alert, ChannelQueue, Message, Preferences
from services.accounts.notifications.models import (
    DevInboxDocument,
    NoticeDocument,
    RequestOwnerDocument,
    preferences_store,
    queues_store,
)
from services.accounts.people import usecases as people
from services.accounts.people.domain import Account
from services.common import contracts
from services.common.auth import mask_phone
from services.common.domain import Missing
from services.common.events import Envelope
from services.common.ids import as_utc, new_id, utcnow
from services.common.logs import get_logger
from services.common.paging import newest_first
from services.common.settings import Settings
from services.common.store import AlreadyExists, ConcurrencyConflict, from_state, holding, to_state

log = get_logger(__name__)


# --- preferences -----------------------------------------------------------------------------------
def preferences_of(account: Account) -> Preferences:
    """The person's preferences, or their role's defaults."""
    document = preferences_store.get(account.id)
    if document is None:
        return Preferences(id=account.id, channels=domain.default_channels(str(account.role)))
    preferences = from_state(Preferences, document)
    if preferences.channels is None:  # stored before null channels were refused: the role's defaults
        preferences.channels = domain.default_channels(str(account.role))
    return preferences


@holding(preferences_store, lambda account, **_changes: account.id)
def set_preferences(account: Account, **changes: Any) -> Preferences:
    """Change channels, quiet hours or addresses; unspecified ones stay."""
    stored = preferences_store.get(account.id)
    current = preferences_of(account)
    for key, value in changes.items():
        setattr(current, key, value)
    domain.check_quiet_hours(current.quiet_start, current.quiet_end)
    if stored is None:
        try:
            preferences_store.insert(account.id, to_state(current), [])
        except AlreadyExists:
            raise ConcurrencyConflict("the preferences appeared meanwhile") from None
    else:
        preferences_store.save(account.id, stored["version"], to_state(current), [])
    return current


def address_of(account: Account, preferences: Preferences, channel: str) -> str | None:
    """Where a channel reaches the person (residents' SMS: the phone they log in with)."""
    if channel == domain.Channel.SMS:
        return preferences.phone or account.phone
    if channel == domain.Channel.EMAIL:
        return preferences.email
    if channel == domain.Channel.WECHAT:
        return preferences.wechat_openid
    return None


# --- from events to notices and queued messages ---------------------------------------------------
def notify(envelope: Envelope, recipients: list[Account], alert: Alert, settings: Settings) -> None:
    """Tell each recipient once: a notice for the console, and a message on each chosen channel."""
    now = utcnow()
    for account in {account.id: account for account in recipients}.values():
        preferences = preferences_of(account)
        try:
            NoticeDocument._get_collection().insert_one(
                {
                    "_id": new_id(),
                    "source": f"{envelope.id}:{account.id}",
                    "account_id": account.id,
                    "topic": alert.topic,
                    "event_type": envelope.type,
                    "title": alert.title,
                    "text": alert.text,
                    "request_id": alert.request_id,
                    "task_id": alert.task_id,
                    "created_at": now,
                    "read_at": None,
                }
            )
            NOTIFICATIONS.labels("console", "stored").inc()
        except DuplicateKeyError:
            pass  # stored by an earlier delivery of this event; its queues are guarded by `seen`
        for channel in preferences.channels.get(alert.topic, []):
            if channel == domain.Channel.CONSOLE:
                continue
            address = address_of(account, preferences, channel)
            if not address:
                NOTIFICATIONS.labels(channel, "no_address").inc()
                continue
            _enqueue(
                f"{account.id}:{channel}:{alert.topic}",
                account.id,
                channel,
                address,
                alert,
                preferences,
                settings,
            )


@holding(queues_store, lambda queue_id, *_args: queue_id)
def _enqueue(
    queue_id: str,
    account_id: str,
    channel: str,
    address: str,
    alert: Alert,
    preferences: Preferences,
    settings: Settings,
) -> None:
    stored = queues_store.get(queue_id)
    queue = _queue(stored) if stored else ChannelQueue(queue_id, account_id, channel, alert.topic, address)
    queue.address = address
    window = timedelta(seconds=settings.digest_window_seconds)
    if not domain.enqueue(queue, alert, utcnow(), preferences, window, new_id()):
        return
    if stored is None:
        try:
            queues_store.insert(queue_id, _queue_state(queue), [])
        except AlreadyExists:
            raise ConcurrencyConflict("the queue appeared meanwhile") from None
    else:
        queues_store.save(queue_id, queue.version, _queue_state(queue), [])


def _queue(document: dict[str, Any]) -> ChannelQueue:
    queue = from_state(ChannelQueue, document)
    queue.messages = [
        Message(
            **{
                **message,
                "not_before": as_utc(message["not_before"]),
                "claimed_at": as_utc(message["claimed_at"]) if message.get("claimed_at") else None,
            }
        )
        for message in document.get("messages", [])
    ]
    queue.window_until = as_utc(queue.window_until) if queue.window_until else None
    return queue


def _queue_state(queue: ChannelQueue) -> dict[str, Any]:
    state = to_state(queue)
    state["messages"] = [asdict(message) for message in queue.messages]
    return state


def resident_of(request_id: str, resident_id: str | None = None) -> list[Account]:
    """The resident who ordered a request, when they have an account."""
    if resident_id is None:
        owner = RequestOwnerDocument.objects(id=request_id).first()
        resident_id = owner.resident_id if owner is not None else None
    return people.accounts_of_subject(resident_id) if resident_id else []


def request_label(request_id: str) -> str:
    """How a resident knows their request: its code and title when known."""
    owner = RequestOwnerDocument.objects(id=request_id).first()
    if owner is None:
        return "您的服务单"
    return f"服务单 {owner.code}（{owner.title}）" if owner.code else "您的服务单"


def township_staff(township: str) -> list[Account]:
    """Dispatchers and admins of the township, or county-wide staff when it has none."""
    return people.staff_of(township) or people.staff_of(None)


# --- the worker's sweep ------------------------------------------------------------------------------
def record_in_dev_inbox(adapter: ChannelAdapter, message: Outgoing) -> None:
    """Keep what would have been sent (local profiles: the development inbox)."""
    built = adapter.build(message)
    DevInboxDocument._get_collection().insert_one(
        {
            "_id": new_id(),
            "channel": message.channel,
            "to": message.to,
            "subject": message.subject,
            "text": message.text,
            "request": built.as_dict(),
            "created_at": utcnow(),
        }
    )


def hand_over(adapter: ChannelAdapter, message: Outgoing, settings: Settings) -> bool:
    """Send on a channel, or record it when the channel is off; whether it is done with."""
    try:
        if adapter.enabled:
            adapter.send(message)
            NOTIFICATIONS.labels(adapter.name, "sent").inc()
        elif settings.is_local:
            record_in_dev_inbox(adapter, message)
            NOTIFICATIONS.labels(adapter.name, "dev_inbox").inc()
        else:
            NOTIFICATIONS.labels(adapter.name, "switched_off").inc()
        return True
    except SendFailed as error:
        NOTIFICATIONS.labels(adapter.name, "failed").inc()
        log.warning(
            "notify.send_failed", channel=adapter.name, error=str(error)[:200], to=mask_phone(message.to)
        )
        return False


def deliver_codes(settings: Settings, channels: dict[str, ChannelAdapter]) -> int:
    """Send the login codes waiting; each code is taken from its document once (never sent twice)."""
    sent = 0
    for phone in codes.codes_to_deliver():
        code = codes.take_code(phone)
        if code is None:
            continue
        text = f"【{settings.sms_sign_name}】您的登录验证码是 {code}，5 分钟内有效。如非本人操作请忽略。"
        outgoing = Outgoing("sms", phone, "登录验证码", text, new_id(), {"code": code}, template="code")
        sent += hand_over(channels["sms"], outgoing, settings)
    return sent


@holding(queues_store, lambda queue_id, _settings: queue_id)
def _claim_due(queue_id: str, settings: Settings) -> tuple[ChannelQueue | None, list[Message]]:
    stored = queues_store.get(queue_id)
    if stored is None:
        return None, []
    queue = _queue(stored)
    account = people.get_account(queue.account_id)
    window = timedelta(seconds=settings.digest_window_seconds)
    due, lost = domain.take_due(queue, utcnow(), preferences_of(account), window, new_id())
    for _message in lost:
        NOTIFICATIONS.labels(queue.channel, "unknown").inc()
    if due or lost or stored.get("pending") != queue.pending or stored.get("held") != queue.held:
        queues_store.save(queue_id, queue.version, _queue_state(queue), [])
    return queue, due


@holding(queues_store, lambda queue_id, _message_id, _sent: queue_id)
def _finish(queue_id: str, message_id: str, sent: bool) -> None:
    stored = queues_store.get(queue_id)
    if stored is None:
        return
    queue = _queue(stored)
    domain.finish(queue, message_id, sent, utcnow())
    queues_store.save(queue_id, queue.version, _queue_state(queue), [])


def deliver_due(settings: Settings, channels: dict[str, ChannelAdapter]) -> int:
    """Send every message that is due now (each marked `sending` first, removed after)."""
    handed = 0
    for item in queues_store.collection.find({"pending": True}, {"_id": 1}).limit(200):
        try:
            queue, due = _claim_due(item["_id"], settings)
        except Missing:
            continue
        if queue is None:
            continue
        for message in due:
            subject, text = domain.render(message)
            outgoing = Outgoing(queue.channel, queue.address, subject, text, message.id)
            done = hand_over(channels[queue.channel], outgoing, settings)
            _finish(queue.id, message.id, done)
            handed += done
    return handed


class Sweeper:
    """The worker's periodic job: codes first (someone is waiting at a login page), then the queues."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.channels = adapters(settings)

    def __call__(self) -> int:
        return deliver_codes(self.settings, self.channels) + deliver_due(self.settings, self.channels)


# --- reading ------------------------------------------------------------------------------------------
def list_notices(account_id: str, *, unread: bool, limit: int, before: str | None) -> list[dict[str, Any]]:
    """A person's notices, newest first."""
    found = newest_first(
        NoticeDocument._get_collection(), {"account_id": account_id}, limit=limit, before=before
    )
    return [notice for notice in found if not unread or notice.get("read_at") is None]


def unread_count(account_id: str) -> int:
    """How many of a person's notices are unread (a console badge)."""
    return NoticeDocument._get_collection().count_documents({"account_id": account_id, "read_at": None})


def mark_read(account_id: str, notice_id: str) -> dict[str, Any]:
    """Mark one notice read (only one's own; others' are as good as unknown)."""
    collection = NoticeDocument._get_collection()
    notice = collection.find_one({"_id": notice_id})
    if notice is None or notice["account_id"] != account_id:
        raise Missing("no notice with that id")
    if notice.get("read_at") is None:
        notice["read_at"] = utcnow()
        collection.update_one({"_id": notice_id}, {"$set": {"read_at": notice["read_at"]}})
    return notice


def mark_all_read(account_id: str) -> int:
    """Mark all of a person's notices read."""
    collection = NoticeDocument._get_collection()
    unread = [
        n["_id"]
        for n in collection.find({"account_id": account_id}, {"_id": 1, "read_at": 1})
        if not n.get("read_at")
    ]
    now = utcnow()
    for notice_id in unread:
        collection.update_one({"_id": notice_id}, {"$set": {"read_at": now}})
    return len(unread)


def dev_inbox(to: str, limit: int) -> list[dict[str, Any]]:
    """What would have been sent to an address, newest first (local profiles only)."""
    return newest_first(DevInboxDocument._get_collection(), {"to": to}, limit=limit)


def remember_owner(envelope: Envelope, data: contracts.RequestSubmitted) -> None:
    """Whose request this is (events after `request.submitted` do not say)."""
    RequestOwnerDocument.objects(id=data.request_id).update_one(
        set__resident_id=data.resident_id,
        set__township=data.township,
        set__code=data.code,
        set__title=data.title[:60],
        upsert=True,
    )
