"""The accounts service against the real broker and database server: logins, lockout, codes through
the notifier, notices from real events, email to a real SMTP server, and the gateway's check."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from flask.testing import FlaskClient

import services.accounts as accounts
from services.accounts.codes.models import LoginCodeDocument
from services.accounts.notifications.domain import CHINA
from services.accounts.notifications.models import (
    ChannelQueueDocument,
    DevInboxDocument,
    NoticeDocument,
    preferences_store,
)
from services.accounts.people.models import KnownVolunteerDocument
from services.common import contracts
from services.common.ids import new_id, utcnow
from services.common.settings import Settings
from tests import factories
from tests.keys import keyring_json
from tests.support import (
    bearer,
    delete_queues,
    drop_database,
    event,
    integration_settings,
    publish,
    running_worker,
    wait_until,
)

pytestmark = pytest.mark.integration
ADMIN = bearer("admin", "it-admin")


class Mailbox:
    """An SMTP handler keeping what it receives."""

    def __init__(self) -> None:
        self.mails: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.mails.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Accounts:
    settings: Settings
    client: FlaskClient
    mailbox: Mailbox


@pytest.fixture(scope="module")
def service() -> Iterator[Accounts]:
    """The accounts app and worker on fresh data, a real SMTP server for their email."""
    mailbox = Mailbox()
    port = free_port()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=port)
    smtp.start()
    settings = integration_settings(
        "accounts",
        jwt_keys=keyring_json(),
        smtp_host="127.0.0.1",
        smtp_port=port,
        notify_sweep_seconds=0.1,
        digest_window_seconds=4,  # long enough to publish three more after the first mail
    )
    drop_database(settings)
    delete_queues(settings.amqp_url, "accounts")
    app = accounts.create_app(settings)
    try:
        with running_worker(accounts.worker_spec(settings), settings):
            yield Accounts(settings, app.test_client(), mailbox)
    finally:
        smtp.stop()


def make_account(client: FlaskClient, username: str, role: str, **extra) -> dict:
    body = {
        "username": username,
        "password": "茶园-桥头-2026",
        "role": role,
        "display_name": username,
        **extra,
    }
    response = client.post("/api/v1/accounts", json=body, headers=ADMIN)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


PASSWORD = "茶园-桥头-2026"


def login(client: FlaskClient, username: str, password: str = PASSWORD):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def token_of(client: FlaskClient, username: str) -> dict[str, str]:
    """The Authorization header of a fresh login."""
    return {"Authorization": f"Bearer {login(client, username).get_json()['access_token']}"}


def notices(client: FlaskClient, token: dict[str, str]) -> list[dict]:
    return client.get("/api/v1/notifications", headers=token).get_json()["items"]


def test_a_password_login_gives_an_rs256_token_the_check_accepts_until_logout(service):
    make_account(service.client, "disp.it", "dispatcher", township="平湖镇")
    response = login(service.client, "DISP.it")
    assert response.status_code == 200
    body = response.get_json()
    token = {"Authorization": f"Bearer {body['access_token']}"}
    cookies = response.headers.getlist("Set-Cookie")
    assert any(
        c.startswith("civicloop_refresh=")
        and "HttpOnly" in c
        and "SameSite=Strict" in c
        and "Path=/api/v1/auth" in c
        and "Secure" not in c
        for c in cookies
    )
    assert any(c.startswith("civicloop_live=") and "Path=/api/v1/live" in c for c in cookies)
    assert service.client.get("/internal/auth/check", headers=token).status_code == 204
    me = service.client.get("/api/v1/auth/me", headers=token).get_json()
    assert me["account"]["township"] == "平湖镇" and me["method"] == "password"
    # Refresh rotates the cookie and gives a new token of the same session.
    refreshed = service.client.post("/api/v1/auth/refresh")
    assert refreshed.status_code == 200 and refreshed.get_json()["session_id"] == body["session_id"]
    assert service.client.post("/api/v1/auth/logout").status_code == 204
    assert service.client.get("/internal/auth/check", headers=token).status_code == 401
    assert service.client.post("/api/v1/auth/refresh").status_code == 401


def test_six_wrong_passwords_lock_the_name_and_a_locked_name_looks_like_a_wrong_password(service):
    make_account(service.client, "steward.it", "steward", township="大桥镇")
    answers = [login(service.client, "steward.it", "wrong-password-1") for _ in range(6)]
    assert [a.status_code for a in answers] == [401] * 6
    assert [a.headers.get("Retry-After") is not None for a in answers] == [False] * 4 + [True, True]
    assert int(answers[-1].headers["Retry-After"]) > 14 * 60
    right_but_locked = login(service.client, "steward.it")
    assert right_but_locked.status_code == 401 and right_but_locked.headers.get("Retry-After")
    assert right_but_locked.get_json()["detail"] == answers[0].get_json()["detail"]
    # A name nobody has locks the same way, so the answers tell nothing about who exists.
    ghosts = [login(service.client, "nobody.it", "wrong-password-1") for _ in range(6)]
    assert [g.headers.get("Retry-After") is not None for g in ghosts] == [False] * 4 + [True, True]
    account = service.client.get("/api/v1/accounts?role=steward", headers=ADMIN).get_json()["items"][0]
    assert service.client.post(f"/api/v1/accounts/{account['id']}/unlock", headers=ADMIN).status_code == 204
    assert login(service.client, "steward.it").status_code == 200


def test_bad_accounts_are_problems_naming_the_field(service):
    weak = service.client.post(
        "/api/v1/accounts",
        json={"username": "weak.it", "password": "woaini1314", "role": "admin", "display_name": "x"},
        headers=ADMIN,
    )
    assert weak.status_code == 422 and weak.get_json()["errors"][0]["field"] == "password"
    unknown = service.client.post(
        "/api/v1/accounts",
        json={
            "username": "vol.x",
            "password": "茶园-桥头-2026",
            "role": "volunteer",
            "display_name": "x",
            "volunteer_id": "never-registered",
        },
        headers=ADMIN,
    )
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"] == "volunteer_id"
    make_account(service.client, "twice.it", "admin")
    again = service.client.post(
        "/api/v1/accounts",
        json={"username": "Twice.it", "password": "茶园-桥头-2026", "role": "admin", "display_name": "x"},
        headers=ADMIN,
    )
    assert again.status_code == 409 and again.get_json()["errors"][0]["field"] == "username"
    resident = bearer("resident", "r-1")
    assert service.client.get("/api/v1/accounts", headers=resident).status_code == 403


def test_a_resident_logs_in_with_the_code_the_notifier_sent(service):
    phone = "13900000077"
    assert service.client.post("/api/v1/auth/code", json={"phone": phone}).status_code == 202
    again = service.client.post("/api/v1/auth/code", json={"phone": phone})
    assert (
        again.status_code == 429
        and again.headers["Retry-After"]
        and again.get_json()["errors"][0]["field"] == "phone"
    )
    inbox = wait_until(
        lambda: service.client.get(f"/api/v1/dev/inbox?to={phone}").get_json()["items"], what="the code's SMS"
    )
    assert len(inbox) == 1 and inbox[0]["request"]["form"]["Action"] == "SendSms"
    code = inbox[0]["request"]["form"]["TemplateParam"].split('"')[3]
    wrong_code = "000000" if code != "000000" else "111111"
    wrong = service.client.post("/api/v1/auth/code/verify", json={"phone": phone, "code": wrong_code})
    assert wrong.status_code == 401
    first = service.client.post("/api/v1/auth/code/verify", json={"phone": phone, "code": code})
    assert first.status_code == 200 and first.get_json()["account"]["role"] == "resident"
    assert first.get_json()["account"]["phone_masked"] == "139****0077"
    assert (
        service.client.post("/api/v1/auth/code/verify", json={"phone": phone, "code": code}).status_code
        == 401
    )
    # Only the hash is kept once the notifier took the code.
    stored = LoginCodeDocument.objects(id=phone).first()
    assert stored.undelivered_code is None and code not in str(stored.to_mongo())


def _volunteer(service, volunteer_id: str) -> dict:
    registered = contracts.VolunteerRegistered(
        volunteer_id=volunteer_id, name="林小红", township="平湖镇", skills=["elder_care"], profile_version=1
    )
    publish(service.settings.amqp_url, event(registered, correlation_id=volunteer_id))
    wait_until(lambda: KnownVolunteerDocument.objects(id=volunteer_id).first(), what="the volunteer known")
    return make_account(
        service.client, f"v.{volunteer_id[-6:].lower()}", "volunteer", volunteer_id=volunteer_id
    )


def test_an_offer_becomes_one_notice_and_one_sms_however_often_it_is_delivered(service):
    volunteer_id = "vol-" + new_id()
    account = _volunteer(service, volunteer_id)
    token = {
        "Authorization": f"Bearer {login(service.client, account['username']).get_json()['access_token']}"
    }
    assert (
        service.client.put(
            "/api/v1/notifications/preferences",
            json={"phone": "13700000011", "quiet_start": None, "quiet_end": None},
            headers=token,
        ).status_code
        == 200
    )
    # Channels left out stay; null is refused naming them, and nothing is written (found by make fuzz:
    # a null was stored and every later read of the preferences was a 500).
    before = service.client.get("/api/v1/notifications/preferences", headers=token).get_json()
    nulled = service.client.put(
        "/api/v1/notifications/preferences", json={"channels": None, "quiet_start": "22:00"}, headers=token
    )
    assert nulled.status_code == 422 and nulled.get_json()["errors"][0]["field"] == "channels"
    after = service.client.get("/api/v1/notifications/preferences", headers=token)
    assert after.status_code == 200 and after.get_json() == before
    kept = service.client.put("/api/v1/notifications/preferences", json={}, headers=token)
    assert kept.status_code == 200 and kept.get_json() == before
    # One stored before the refusal reads as the role's defaults.
    preferences_store.collection.update_one({"_id": account["id"]}, {"$set": {"channels": None}})
    healed = service.client.get("/api/v1/notifications/preferences", headers=token)
    assert healed.status_code == 200 and healed.get_json() == before
    offered = factories.task_offered(volunteer_id=volunteer_id, title="帮忙买菜")
    envelope = event(offered)
    publish(service.settings.amqp_url, envelope, envelope)
    found = wait_until(lambda: notices(service.client, token), what="the notice")
    sms = wait_until(
        lambda: list(DevInboxDocument.objects(to="13700000011")), what="the offer's SMS in the dev inbox"
    )
    time.sleep(1.0)
    assert len(notices(service.client, token)) == 1
    assert len(list(DevInboxDocument.objects(to="13700000011"))) == 1
    assert found[0]["topic"] == "offer" and found[0]["task_id"] == offered.task_id
    assert "帮忙买菜" in sms[0].text
    read = service.client.post(f"/api/v1/notifications/{found[0]['id']}/read", headers=token)
    assert read.status_code == 200 and read.get_json()["read_at"]
    assert service.client.get("/api/v1/notifications?unread=true", headers=token).get_json()["unread"] == 0
    other = bearer("volunteer", "someone-else")
    assert (
        service.client.post(f"/api/v1/notifications/{found[0]['id']}/read", headers=other).status_code == 404
    )


def test_escalations_reach_staff_by_email_folded_into_a_digest(service):
    make_account(service.client, "disp.mail", "dispatcher", township="凤都镇")
    token = token_of(service.client, "disp.mail")
    service.client.put(
        "/api/v1/notifications/preferences", json={"email": "disp@gutian.example.cn"}, headers=token
    )
    before = len(service.mailbox.mails)
    escalations = [
        event(factories.request_escalated(township="凤都镇", reason=f"no one fits ({number})"))
        for number in range(4)
    ]
    # The first alert goes out alone; until it is sent, later ones fold into it, so wait for it.
    publish(service.settings.amqp_url, escalations[0])
    wait_until(lambda: len(service.mailbox.mails) >= before + 1, timeout=60, what="the first mail")
    for escalated in escalations[1:]:
        publish(service.settings.amqp_url, escalated)

    def alerts_mailed() -> int:
        # A digest says how many it folds; any other mail carries one alert.
        folded = [re.search(r"(\d+) 条新提醒", mail["Subject"]) for mail in service.mailbox.mails[before:]]
        return sum(int(match.group(1)) if match else 1 for match in folded)

    wait_until(lambda: alerts_mailed() >= 4, timeout=60, what="the four alerts by email")
    mails = service.mailbox.mails[before:]
    # Which alerts share a mail depends on when the worker reaches each event (a busy machine may
    # take longer than one window over the four); that they fold, and all four arrive once, does not.
    assert alerts_mailed() == 4 and len(mails) < 4
    assert any("条新提醒" in mail["Subject"] for mail in mails)
    assert mails[0]["To"] == "disp@gutian.example.cn" and mails[0]["Message-ID"].endswith("@civicloop>")
    stored = notices(service.client, token)
    assert len(stored) == 4 and {n["topic"] for n in stored} == {"escalation"}


def test_quiet_hours_hold_sms_until_they_end(service):
    volunteer_id = "vol-" + new_id()
    account = _volunteer(service, volunteer_id)
    token = {
        "Authorization": f"Bearer {login(service.client, account['username']).get_json()['access_token']}"
    }
    # Quiet all day but one minute: whatever the time, now is quiet.
    now = utcnow().astimezone(CHINA)
    start, end = (now - timedelta(hours=1)).strftime("%H:%M"), (now + timedelta(hours=2)).strftime("%H:%M")
    service.client.put(
        "/api/v1/notifications/preferences",
        json={"phone": "13700000022", "quiet_start": start, "quiet_end": end},
        headers=token,
    )
    offered = factories.task_offered(volunteer_id=volunteer_id, title="夜里的邀约")
    publish(service.settings.amqp_url, event(offered))
    wait_until(
        lambda: service.client.get("/api/v1/notifications", headers=token).get_json()["items"], what="notice"
    )
    queue = wait_until(
        lambda: ChannelQueueDocument.objects(account_id=account["id"], channel="sms").first(),
        what="the queue",
    )
    time.sleep(1.0)
    assert list(DevInboxDocument.objects(to="13700000022")) == []
    assert queue.messages[0]["not_before"] > utcnow()
    assert NoticeDocument.objects(account_id=account["id"]).count() == 1


def test_a_disabled_account_ends_its_sessions(service):
    created = make_account(service.client, "leaving.it", "dispatcher")
    token = token_of(service.client, "leaving.it")
    assert service.client.get("/internal/auth/check", headers=token).status_code == 204
    changed = service.client.patch(f"/api/v1/accounts/{created['id']}", json={"active": False}, headers=ADMIN)
    assert changed.status_code == 200 and changed.get_json()["active"] is False
    assert service.client.get("/internal/auth/check", headers=token).status_code == 401
    assert login(service.client, "leaving.it").status_code == 401


def test_audit_entries_from_the_bus_are_kept_once_and_read_by_admins_of_their_township(service):
    subject = "req-" + new_id()
    entry = factories.audit_recorded(subject_id=subject, township="大甲镇", reason="nobody fits")
    envelope = event(entry, producer="dispatch", correlation_id=subject)
    publish(service.settings.amqp_url, envelope)
    publish(service.settings.amqp_url, envelope)  # a redelivery: still one entry

    def listed() -> list[dict]:
        answer = service.client.get(f"/api/v1/audit?subject_id={subject}", headers=ADMIN)
        return answer.get_json()["items"]

    found = wait_until(listed, what="the audit entry")
    time.sleep(0.5)
    assert len(listed()) == 1
    assert found[0]["id"] == envelope["id"] and found[0]["producer"] == "dispatch"
    assert (found[0]["action"], found[0]["reason"], found[0]["township"]) == (
        "dispatch.assigned_by_hand",
        "nobody fits",
        "大甲镇",
    )
    township_admin = bearer("admin", "it-dajia-admin", township="大甲镇")
    mine = service.client.get("/api/v1/audit?limit=100", headers=township_admin).get_json()["items"]
    assert envelope["id"] in {e["id"] for e in mine} and {e["township"] for e in mine} == {"大甲镇"}
    elsewhere = bearer("admin", "it-pinghu-admin", township="平湖镇")
    assert service.client.get("/api/v1/audit?township=大甲镇", headers=elsewhere).status_code == 403
    assert not service.client.get(f"/api/v1/audit?subject_id={subject}", headers=elsewhere).get_json()[
        "items"
    ]
    dispatcher = bearer("dispatcher", "it-dispatcher", township="大甲镇")
    assert service.client.get("/api/v1/audit", headers=dispatcher).status_code == 403


def test_an_admin_resetting_a_password_is_in_the_trail(service):
    made = make_account(service.client, "audit.reset", "steward", township="城东街道")
    reset = service.client.post(
        f"/api/v1/accounts/{made['id']}/password", json={"password": "重设的-口令-2026"}, headers=ADMIN
    )
    assert reset.status_code == 204
    trail = service.client.get(f"/api/v1/audit?subject_id={made['id']}", headers=ADMIN).get_json()["items"]
    assert {(e["action"], e["actor"], e["producer"]) for e in trail} == {
        ("account.password_reset", "it-admin", "accounts"),
        ("account.created", "it-admin", "accounts"),
    }
    assert len(trail) == 2
