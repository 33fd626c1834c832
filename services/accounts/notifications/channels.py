"""Channels behind one interface: each adapter builds its provider's real request, and sends it only
when switched on. Switched off (locally), the request goes to the development inbox instead.

- SMS: Alibaba Cloud SMS `SendSms` (RPC API 2017-05-25, signature v1: HMAC-SHA1 over the sorted,
  percent-encoded parameters).
- WeChat: the mini-program subscribe message API (`message/subscribe/send`, an access token fetched
  with the app's id and secret).
- Email: SMTP (a real local server in the tests: aiosmtpd).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import quote

import requests

from services.common.ids import isoformat, real_utcnow, utcnow
from services.common.settings import Settings

SMS_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
WECHAT_SEND = "https://api.weixin.qq.com/cgi-bin/message/subscribe/send"
WECHAT_TOKEN = "https://api.weixin.qq.com/cgi-bin/token"


class SendFailed(Exception):
    """The provider refused or did not answer; the message is tried again later."""


@dataclass
class Outgoing:
    """One message to one address; `reference` is our message id (the provider's out-id)."""

    channel: str
    to: str
    subject: str
    text: str
    reference: str
    params: dict[str, str] = field(default_factory=dict)
    template: str = "notice"  # or "code"


@dataclass
class ProviderRequest:
    """What goes over the wire: method, URL, headers and a form, JSON or email body."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] | None = None
    json: dict[str, Any] | None = None
    email: dict[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        """For the development inbox."""
        return {
            key: value
            for key, value in {
                "method": self.method,
                "url": self.url,
                "headers": self.headers,
                "form": self.form,
                "json": self.json,
                "email": self.email,
            }.items()
            if value
        }


class ChannelAdapter(Protocol):
    """A channel: builds the provider's request; sends it when `enabled`."""

    name: str
    enabled: bool

    def build(self, message: Outgoing) -> ProviderRequest: ...

    def send(self, message: Outgoing) -> None: ...


def percent_encode(value: str) -> str:
    """Alibaba Cloud's encoding: RFC 3986 unreserved characters kept, spaces as %20, UTF-8."""
    return quote(value, safe="-_.~")


def aliyun_signature(parameters: dict[str, str], secret: str, method: str = "POST") -> str:
    """Signature v1 of an RPC call: Base64(HMAC-SHA1(secret + "&", METHOD&%2F&encoded query))."""
    canonical = "&".join(
        f"{percent_encode(key)}={percent_encode(value)}" for key, value in sorted(parameters.items())
    )
    to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunSms:
    """SMS through Alibaba Cloud's SendSms."""

    name = "sms"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.enabled = settings.sms_enabled

    def build(
        self, message: Outgoing, *, now: datetime | None = None, nonce: str | None = None
    ) -> ProviderRequest:
        """The signed SendSms form."""
        code_template = message.template == "code"
        params = {"code": message.params["code"]} if code_template else {"title": message.subject[:20]}
        form = {
            "AccessKeyId": self.settings.sms_access_key_id or "LOCAL-ACCESS-KEY",
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": message.reference,
            "PhoneNumbers": message.to,
            "RegionId": "cn-hangzhou",
            "SignName": self.settings.sms_sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": nonce or str(uuid.uuid4()),
            "SignatureVersion": "1.0",
            "TemplateCode": self.settings.sms_code_template
            if code_template
            else self.settings.sms_notice_template,
            "TemplateParam": json.dumps(params, ensure_ascii=False, separators=(",", ":")),
            "Timestamp": (now or real_utcnow()).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        form["Signature"] = aliyun_signature(form, self.settings.sms_access_key_secret or "LOCAL-SECRET")
        return ProviderRequest(
            "POST",
            SMS_ENDPOINT,
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            form=form,
        )

    def send(self, message: Outgoing) -> None:
        """Send; the provider answers `"Code": "OK"` when it took the message."""
        built = self.build(message)
        try:
            answer = requests.post(built.url, data=built.form, headers=built.headers, timeout=10).json()
        except (requests.RequestException, ValueError) as error:
            raise SendFailed(f"SMS provider unreachable: {error}") from None
        if answer.get("Code") != "OK":
            raise SendFailed(f"SMS refused: {answer.get('Code')}")


class WeChatSubscribe:
    """WeChat mini-program subscribe messages (订阅消息)."""

    name = "wechat"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.enabled = settings.wechat_enabled
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def build(self, message: Outgoing, *, access_token: str = "ACCESS_TOKEN") -> ProviderRequest:
        """The subscribe/send call: the person's openid, the template and its fields (≤20 characters)."""
        return ProviderRequest(
            "POST",
            f"{WECHAT_SEND}?access_token={access_token}",
            headers={"Content-Type": "application/json"},
            json={
                "touser": message.to,
                "template_id": self.settings.wechat_template_id,
                "page": "pages/notices/index",
                "miniprogram_state": "formal",
                "lang": "zh_CN",
                "data": {
                    "thing1": {"value": message.subject[:20]},
                    "thing2": {"value": message.text[:20]},
                    "time3": {"value": isoformat(utcnow())[:16].replace("T", " ")},
                },
            },
        )

    def _access_token(self) -> str:
        with self._lock:
            if self._token is not None and time.monotonic() < self._token[1]:
                return self._token[0]
            answer = requests.get(
                WECHAT_TOKEN,
                params={
                    "grant_type": "client_credential",
                    "appid": self.settings.wechat_app_id,
                    "secret": self.settings.wechat_app_secret,
                },
                timeout=10,
            ).json()
            if "access_token" not in answer:
                raise SendFailed(f"WeChat token refused: {answer.get('errcode')}")
            # Tokens live 7200 s; renew a little early.
            self._token = (
                answer["access_token"],
                time.monotonic() + int(answer.get("expires_in", 7200)) - 300,
            )
            return self._token[0]

    def send(self, message: Outgoing) -> None:
        """Send; WeChat answers `errcode: 0` when it took the message."""
        try:
            built = self.build(message, access_token=self._access_token())
            answer = requests.post(built.url, json=built.json, timeout=10).json()
        except (requests.RequestException, ValueError) as error:
            raise SendFailed(f"WeChat unreachable: {error}") from None
        if answer.get("errcode", 0) != 0:
            raise SendFailed(f"WeChat refused: {answer.get('errcode')}")


class SmtpEmail:
    """Email through an SMTP server."""

    name = "email"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.enabled = bool(settings.smtp_host)

    def build(self, message: Outgoing) -> ProviderRequest:
        """The envelope and the mail."""
        return ProviderRequest(
            "SMTP",
            f"smtp://{self.settings.smtp_host or 'localhost'}:{self.settings.smtp_port}",
            email={
                "from": self.settings.smtp_sender,
                "to": message.to,
                "subject": f"[civicloop] {message.subject}",
                "text": message.text,
                "message_id": f"<{message.reference}@civicloop>",
            },
        )

    def send(self, message: Outgoing) -> None:
        """Hand the mail to the server."""
        built = self.build(message).email or {}
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = built["from"], built["to"], built["subject"]
        # One Message-ID per message: a server or reader that sees it twice knows it is the same.
        mail["Message-ID"] = built["message_id"]
        mail.set_content(built["text"])
        try:
            with smtplib.SMTP(self.settings.smtp_host, self.settings.smtp_port, timeout=10) as server:
                server.send_message(mail)
        except (OSError, smtplib.SMTPException) as error:
            raise SendFailed(f"SMTP: {error}") from None


def adapters(settings: Settings) -> dict[str, ChannelAdapter]:
    """Every channel but the console, by name."""
    return {
        adapter.name: adapter
        for adapter in (AliyunSms(settings), WeChatSubscribe(settings), SmtpEmail(settings))
    }
