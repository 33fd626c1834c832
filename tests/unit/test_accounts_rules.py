"""The accounts service's rules: passwords, lockout, login codes, sessions, folding, quiet hours, keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import jwt
import pytest

from services.accounts.codes import domain as codes
from services.accounts.live import domain as live
from services.accounts.notifications import domain as notify
from services.accounts.notifications.channels import (
    AliyunSms,
    Outgoing,
    SmtpEmail,
    WeChatSubscribe,
    aliyun_signature,
)
from services.accounts.people import domain as people
from services.accounts.sessions import domain as sessions
from services.common import keyring
from services.common.auth import Principal, Role, TokenVerifier
from services.common.errors import Unauthorized
from services.common.settings import Settings

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 in Gutian


# --- passwords and lockout ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "password, rule",
    [
        ("short1", "at least 10"),
        ("x" * 129, "at most 128"),
        ("aaaaabbbbb", "4 different"),
        ("woaini1314", "most common"),
        ("WoAiNi1314", "most common"),
        ("zhangwei-2026!", "username"),
    ],
)
def test_weak_passwords_are_refused_naming_the_rule(password, rule):
    with pytest.raises(people.WeakPassword, match=rule) as refused:
        people.check_password(password, "zhangwei")
    assert refused.value.field == "password"


def test_a_good_password_passes():
    people.check_password("茶园-桥头-2026", "zhangwei")


def test_five_wrong_passwords_lock_the_name_for_fifteen_minutes():
    failures = people.LoginFailures(id="someone")
    outcomes = [people.record_failure(failures, T0 + timedelta(seconds=i)) for i in range(5)]
    assert [o.locked_now for o in outcomes] == [False, False, False, False, True]
    assert outcomes[-1].retry_after == 15 * 60
    assert people.locked_for(failures, T0 + timedelta(minutes=10)) == 5 * 60 + 4
    assert people.locked_for(failures, T0 + timedelta(minutes=15, seconds=5)) == 0
    # After the lock, a fresh window: one more wrong password does not lock again.
    again = people.record_failure(failures, T0 + timedelta(minutes=16))
    assert not again.locked_now and failures.count == 1


def test_failures_spread_beyond_the_window_never_lock():
    failures = people.LoginFailures(id="someone")
    for i in range(12):
        assert not people.record_failure(failures, T0 + timedelta(minutes=4 * i)).locked_now


def test_phone_numbers_are_normalised_or_refused_naming_the_field():
    assert people.normalise_phone("+86 138-1234-5678") == "13812345678"
    with pytest.raises(people.InvalidAccount) as refused:
        people.normalise_phone("12345")
    assert refused.value.field == "phone"


def test_a_volunteer_account_names_a_known_volunteer():
    new = people.NewAccount(username="wang.wei", role=people.Role.VOLUNTEER, display_name="王伟")
    with pytest.raises(people.InvalidAccount, match="volunteer id"):
        people.validate_new_account(new, known_volunteer=False)
    new.volunteer_id = "v-1"
    with pytest.raises(people.InvalidAccount, match="no active volunteer"):
        people.validate_new_account(new, known_volunteer=False)
    people.validate_new_account(new, known_volunteer=True)


# --- login codes --------------------------------------------------------------------------------------
def test_a_code_works_once_within_five_minutes():
    state = codes.LoginCode(id="13800000001")
    codes.issue(state, "123456", T0)
    assert state.delivery_pending and state.undelivered_code == "123456"
    codes.check(state, "123456", T0 + timedelta(minutes=4))
    with pytest.raises(codes.CodeRefused):
        codes.check(state, "123456", T0 + timedelta(minutes=4))


def test_a_code_expires():
    state = codes.LoginCode(id="13800000001")
    codes.issue(state, "123456", T0)
    with pytest.raises(codes.CodeRefused) as refused:
        codes.check(state, "123456", T0 + timedelta(minutes=5))
    assert refused.value.field == "code"


def test_five_wrong_codes_void_the_code():
    state = codes.LoginCode(id="13800000001")
    codes.issue(state, "123456", T0)
    for _ in range(5):
        with pytest.raises(codes.CodeRefused):
            codes.check(state, "000000", T0)
    with pytest.raises(codes.CodeRefused):
        codes.check(state, "123456", T0)


def test_codes_are_rate_limited_per_phone():
    state = codes.LoginCode(id="13800000001")
    codes.issue(state, "111111", T0)
    with pytest.raises(codes.TooSoon) as too_soon:
        codes.issue(state, "222222", T0 + timedelta(seconds=20))
    assert too_soon.value.retry_after == 40
    for minute in range(1, 5):
        codes.issue(state, "333333", T0 + timedelta(minutes=minute))
    with pytest.raises(codes.TooSoon, match="5 codes an hour") as hourly:
        codes.issue(state, "444444", T0 + timedelta(minutes=6))
    assert hourly.value.retry_after == 54 * 60
    codes.issue(state, "555555", T0 + timedelta(minutes=61))


# --- sessions -----------------------------------------------------------------------------------------
def _session(secret: str) -> sessions.Session:
    return sessions.Session(
        id="s1",
        account_id="a1",
        subject="a1",
        role="resident",
        township=None,
        refresh_hash=sessions.digest(secret),
        live_hash=sessions.digest("live"),
        created_at=T0,
        expires_at=T0 + timedelta(days=14),
    )


def test_refresh_rotates_and_a_replayed_cookie_ends_the_session():
    session = _session("first")
    rotated = sessions.refresh(session, "first", T0)
    assert rotated.new_secret and sessions.matches(session.refresh_hash, rotated.new_secret)
    # Two tabs at once: the old secret within seconds gets a token, no new cookie.
    assert sessions.refresh(session, "first", T0 + timedelta(seconds=5)).new_secret is None
    with pytest.raises(sessions.SessionRefused, match="used already"):
        sessions.refresh(session, "first", T0 + timedelta(minutes=1))
    assert session.revoked_reason == "refresh_reused"
    with pytest.raises(sessions.SessionRefused):
        sessions.refresh(session, rotated.new_secret, T0 + timedelta(minutes=1))


def test_a_wrong_or_foreign_cookie_is_refused():
    session = _session("first")
    with pytest.raises(sessions.SessionRefused):
        sessions.refresh(session, "guess", T0)
    with pytest.raises(sessions.SessionRefused):
        sessions.split_cookie("no-dot-here")


# --- folding and quiet hours ---------------------------------------------------------------------------
def _alert(number: int) -> notify.Alert:
    return notify.Alert(f"e{number}", "offer", f"邀约{number}", f"第{number}个邀约")


PREFS = notify.Preferences(id="a1", channels={}, quiet_start="22:00", quiet_end="07:00")
WINDOW = timedelta(minutes=10)


def test_alerts_within_the_window_are_folded_into_one_digest():
    queue = notify.ChannelQueue("a1:sms:offer", "a1", "sms", "offer", "13800000001")
    assert notify.enqueue(queue, _alert(1), T0, PREFS, WINDOW, "m1")
    first, _ = notify.take_due(queue, T0, PREFS, WINDOW, "x")
    assert [m.id for m in first] == ["m1"] and len(first[0].alerts) == 1
    notify.finish(queue, "m1", True, T0)
    for number in range(2, 6):
        notify.enqueue(queue, _alert(number), T0 + timedelta(minutes=number), PREFS, WINDOW, f"m{number}")
    assert notify.take_due(queue, T0 + timedelta(minutes=9), PREFS, WINDOW, "x") == ([], [])
    digest, _ = notify.take_due(queue, T0 + timedelta(minutes=10), PREFS, WINDOW, "d1")
    assert [m.id for m in digest] == ["d1"] and len(digest[0].alerts) == 4
    subject, text = notify.render(digest[0])
    assert subject == "4 条新提醒" and "邀约2" in text
    # The same event again changes nothing.
    assert not notify.enqueue(queue, _alert(3), T0 + timedelta(minutes=11), PREFS, WINDOW, "m9")


def test_sms_waits_for_the_end_of_quiet_hours_and_the_night_comes_as_one_message():
    night = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)  # 23:30 in Gutian
    queue = notify.ChannelQueue("a1:sms:offer", "a1", "sms", "offer", "13800000001")
    for number in range(1, 4):
        notify.enqueue(queue, _alert(number), night + timedelta(hours=number), PREFS, WINDOW, f"m{number}")
    assert notify.take_due(queue, night + timedelta(hours=6), PREFS, WINDOW, "x") == ([], [])
    morning = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # 07:00 the next day in Gutian
    due, _ = notify.take_due(queue, morning, PREFS, WINDOW, "x")
    assert len(due) == 1 and len(due[0].alerts) == 3


def test_email_and_the_console_know_no_quiet_hours():
    night = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
    queue = notify.ChannelQueue("a1:email:offer", "a1", "email", "offer", "a@b.cn")
    notify.enqueue(queue, _alert(1), night, PREFS, WINDOW, "m1")
    assert len(notify.take_due(queue, night, PREFS, WINDOW, "x")[0]) == 1


@pytest.mark.parametrize(
    "local_time, until",
    [("21:59", None), ("22:00", "07:00"), ("03:00", "07:00"), ("06:59", "07:00"), ("07:00", None)],
)
def test_quiet_hours_span_midnight(local_time, until):
    hours, minutes = map(int, local_time.split(":"))
    now = datetime(2026, 11, 30, hours, minutes, tzinfo=notify.CHINA)
    ends = notify.quiet_until(now, "22:00", "07:00")
    assert (ends.astimezone(notify.CHINA).strftime("%H:%M") if ends else None) == until
    if ends:
        assert ends > now and ends - now <= timedelta(hours=9)


def test_a_message_lost_in_a_crash_is_given_up_not_sent_twice():
    queue = notify.ChannelQueue("a1:sms:offer", "a1", "sms", "offer", "13800000001")
    notify.enqueue(queue, _alert(1), T0, PREFS, WINDOW, "m1")
    assert len(notify.take_due(queue, T0, PREFS, WINDOW, "x")[0]) == 1
    # The sender died before finishing: the message stays `sending`, never due again.
    assert notify.take_due(queue, T0 + timedelta(minutes=1), PREFS, WINDOW, "x") == ([], [])
    due, lost = notify.take_due(queue, T0 + timedelta(minutes=3), PREFS, WINDOW, "x")
    assert due == [] and [m.id for m in lost] == ["m1"] and not queue.pending


def test_a_failed_send_is_tried_again_later_then_given_up():
    queue = notify.ChannelQueue("a1:sms:offer", "a1", "sms", "offer", "13800000001")
    notify.enqueue(queue, _alert(1), T0, PREFS, WINDOW, "m1")
    now = T0
    for _attempt in range(notify.MAX_ATTEMPTS):
        due, _ = notify.take_due(queue, now, PREFS, WINDOW, "x")
        assert len(due) == 1
        notify.finish(queue, "m1", False, now)
        now += timedelta(hours=1)
    assert queue.messages == []


# --- live entitlement ----------------------------------------------------------------------------------
FACTS = live.Facts("task.offered", "r1", "t1", "平湖镇", resident_id="res-1", volunteer_ids={"v-1"})


@pytest.mark.parametrize(
    "principal, entitled",
    [
        (Principal("res-1", Role.RESIDENT), True),
        (Principal("res-2", Role.RESIDENT), False),
        (Principal("v-1", Role.VOLUNTEER), True),
        (Principal("v-2", Role.VOLUNTEER), False),
        (Principal("d", Role.DISPATCHER, "平湖镇"), True),
        (Principal("d", Role.DISPATCHER, "大桥镇"), False),
        (Principal("d", Role.ADMIN), True),
        (Principal("s", Role.STEWARD, "平湖镇"), False),
    ],
)
def test_only_those_entitled_hear_of_a_change(principal, entitled):
    assert live.entitled(principal, FACTS) is entitled


def test_a_notice_carries_nothing_personal():
    notice = live.notice("e1", FACTS, "2026-11-30T02:00:00Z")
    assert set(notice) == {"id", "type", "request_id", "task_id", "township", "at"}


# --- provider request shapes ------------------------------------------------------------------------------
SETTINGS = Settings(service="accounts", sms_access_key_id="testid", sms_access_key_secret="testsecret")


def test_the_sms_request_is_a_signed_sendsms_call():
    message = Outgoing("sms", "13800000001", "登录验证码", "…", "m1", {"code": "123456"}, template="code")
    built = AliyunSms(SETTINGS).build(message, now=T0, nonce="n-1")
    form = dict(built.form or {})
    assert built.method == "POST" and built.url == "https://dysmsapi.aliyuncs.com/"
    assert form["Action"] == "SendSms" and form["Version"] == "2017-05-25"
    assert form["PhoneNumbers"] == "13800000001" and form["TemplateParam"] == '{"code":"123456"}'
    assert form["Timestamp"] == "2026-11-30T02:00:00Z" and form["OutId"] == "m1"
    signature = form.pop("Signature")
    # Recomputed by hand from the documented recipe (sorted, RFC 3986-encoded, POST&%2F&…, key + "&").
    query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(form.items()))
    to_sign = "POST&%2F&" + quote(query, safe="-_.~")
    expected = base64.b64encode(hmac.new(b"testsecret&", to_sign.encode(), hashlib.sha1).digest()).decode()
    assert signature == expected == aliyun_signature(form, "testsecret")
    assert "%20" in quote("a b", safe="-_.~") and "%2A" in quote("*", safe="-_.~")


def test_the_wechat_request_is_a_subscribe_message():
    message = Outgoing("wechat", "oAbCdEfGhIjK", "新的服务邀约：帮忙买菜买菜买菜买菜买菜买菜", "…", "m1")
    built = WeChatSubscribe(SETTINGS).build(message, access_token="TOKEN")
    assert built.url.endswith("/cgi-bin/message/subscribe/send?access_token=TOKEN")
    body = built.json or {}
    assert body["touser"] == "oAbCdEfGhIjK" and body["template_id"] == SETTINGS.wechat_template_id
    assert all(len(field["value"]) <= 20 for field in body["data"].values())


def test_the_email_carries_our_message_id():
    built = SmtpEmail(SETTINGS).build(Outgoing("email", "a@b.cn", "待人工派单", "…", "m1"))
    assert built.email and built.email["message_id"] == "<m1@civicloop>" and built.email["to"] == "a@b.cn"


# --- keys and rotation ----------------------------------------------------------------------------------
LIFETIME = timedelta(minutes=15)


def test_rotation_keeps_the_old_key_published_until_its_last_token_expired():
    first = keyring.rotate(keyring.Keyring(), T0, lead=timedelta(0), token_lifetime=LIFETIME)
    old = first.signing_key(T0)
    second = keyring.rotate(
        first, T0 + timedelta(days=30), lead=timedelta(minutes=5), token_lifetime=LIFETIME
    )
    new = second.keys[-1]
    switch = T0 + timedelta(days=30, minutes=5)
    # Published before it signs; the old one signs until the switch.
    assert {k.kid for k in second.published(switch - timedelta(minutes=1))} == {old.kid, new.kid}
    assert second.signing_key(switch - timedelta(seconds=1)).kid == old.kid
    assert second.signing_key(switch).kid == new.kid
    retire = switch + LIFETIME + keyring.LEEWAY
    assert {k.kid for k in second.published(retire - timedelta(seconds=1))} == {old.kid, new.kid}
    assert [k.kid for k in second.published(retire)] == [new.kid]
    assert [k.kid for k in keyring.prune(second, retire).keys] == [new.kid]


def test_retiring_the_only_signing_key_is_refused():
    ring = keyring.rotate(keyring.Keyring(), T0, lead=timedelta(0), token_lifetime=LIFETIME)
    with pytest.raises(keyring.KeyringError, match="rotate first"):
        keyring.retire(ring, ring.keys[0].kid, T0)


def _verifier(ring: keyring.Keyring, now: datetime) -> TokenVerifier:
    def lookup(kid: str):
        key = ring.find(kid, now)
        if key is None:
            raise Unauthorized("the token's signing key is not published")
        return key.private_key.public_key()

    return TokenVerifier(Settings(service="requests"), keys=lookup)


def test_tokens_of_both_keys_verify_during_the_switch_and_the_retired_ones_do_not():
    first = keyring.rotate(keyring.Keyring(), T0, lead=timedelta(0), token_lifetime=LIFETIME)
    ring = keyring.rotate(first, T0, lead=timedelta(0), token_lifetime=LIFETIME)
    claims = {"sub": "x", "role": "resident", "iss": "civicloop", "exp": datetime.now(UTC) + LIFETIME}
    old_token, new_token = (keyring.sign(key, claims) for key in ring.keys)
    during = _verifier(ring, T0 + timedelta(minutes=1))
    assert during.verify(old_token).sub == during.verify(new_token).sub == "x"
    after = _verifier(ring, T0 + LIFETIME + keyring.LEEWAY)
    with pytest.raises(Unauthorized, match="not published"):
        after.verify(old_token)
    assert after.verify(new_token).role == Role.RESIDENT


def test_production_refuses_the_development_secret_and_other_algorithms():
    with pytest.raises(RuntimeError, match="local profiles only"):
        TokenVerifier(Settings(service="requests", jwt_secret="s" * 32, jwt_jwks_url="http://x"))
    verifier = _verifier(
        keyring.rotate(keyring.Keyring(), T0, lead=timedelta(0), token_lifetime=LIFETIME), T0
    )
    hs256 = jwt.encode({"sub": "x", "role": "admin", "iss": "civicloop", "exp": 2**31}, "s" * 32)
    with pytest.raises(Unauthorized, match="HS256"):
        verifier.verify(hs256)
