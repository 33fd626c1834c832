"""Settings read from the environment, once per process."""

from __future__ import annotations

import os
from functools import cache
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from services import SERVICES


class Settings(BaseSettings):
    """Everything a civicloop process can be told through `CIVICLOOP_*` variables."""

    model_config = SettingsConfigDict(env_prefix="CIVICLOOP_", extra="ignore")

    service: str = ""
    process: str = "web"
    mongo_url: str = ""
    # The PostgreSQL database behind the wire server (FerretDB), from `<SERVICE>_POSTGRES_URL`; set
    # only by local and test profiles, where declared indexes also become indexes FerretDB's SQL
    # can use (docs/adr/0070). Empty on MongoDB.
    postgres_url: str = ""
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/civicloop"
    # 30 s heartbeats notice a dead broker within a minute without flooding a busy one.
    amqp_heartbeat: int = 30
    # Handlers run one message at a time; a small prefetch keeps redelivery after a crash short.
    amqp_prefetch: int = 16
    # Back-off between handler retries, in seconds; after the last one the message is dead-lettered.
    retry_delays: Annotated[list[float], NoDecode] = Field(default_factory=lambda: [1.0, 5.0, 25.0])
    # The broker dead-letters a message whose worker died this many times while handling it.
    delivery_limit: int = 10
    outbox_poll_seconds: float = 0.1
    outbox_batch: int = 200
    confirm_timeout_seconds: float = 10.0
    inbox_retention_hours: int = 168
    db_timeout_ms: int = 3000
    # Each HTTP request's deadline (docs/adr/0094): below the gateway's 30 s proxy_read_timeout, so the
    # app answers a 503 itself and frees the thread; every database call and lease wait stops there.
    request_timeout_seconds: float = 20.0
    # Leases around read-modify-write (docs/adr/0005); off only on a server with atomic updates.
    document_locks: bool = True
    lock_ttl_seconds: float = 5.0
    # "local" (the profiles of deploy/local) allows the HS256 development secret; anything else refuses it.
    environment: str = "production"
    # HS256 with this secret: `civicloop token` and the tests, in local profiles only (docs/adr/0081).
    jwt_secret: str = ""
    # RS256: the public keys every service verifies with, published by the accounts service.
    jwt_jwks_url: str = ""
    # How long a fetched key set is trusted; an unknown `kid` refetches sooner (at most every 5 s).
    jwks_cache_seconds: float = 60.0
    jwt_issuer: str = "civicloop"
    # The accounts service's signing keys: the keyring as JSON, or the file holding it (docs/adr/0081).
    jwt_keys: str = ""
    jwt_keys_file: str = ""
    # Access tokens live this long; the refresh session behind them much longer (docs/adr/0080).
    access_token_seconds: int = 900
    session_days: int = 14
    # A new signing key is published this long before it signs, so every verifier knows it first.
    key_publish_lead_seconds: int = 0
    log_level: str = "INFO"
    # Fernet keys sealing personal fields at rest, newest first (docs/adr/0095); local profiles
    # fall back to a development key, any other environment must set them.
    personal_data_keys: str = ""
    # Check every HTTP answer against the service's OpenAPI document (test profiles): a status or
    # body the document does not declare becomes a 500 naming the mismatch (services/common/openapi.py).
    check_responses: bool = False
    open311_api_key: str = ""
    # Pairing visits (docs/adr/0054): how often the volunteers worker makes due visits and flags missed ones.
    pairing_sweep_seconds: float = 10.0
    # Follow-ups (docs/adr/0052): the share of completed requests the township staff call back anyway.
    followup_sample_percent: float = 10.0

    # Notifications (docs/adr/0083): real sending is off unless switched on; off, messages go to the
    # development inbox (local profiles only).
    sms_enabled: bool = False
    sms_access_key_id: str = ""
    sms_access_key_secret: str = ""
    sms_sign_name: str = "古田县文明实践"
    # The provider's approved templates: one for login codes (${code}), one for notices (${title}).
    sms_code_template: str = "SMS_CODE_TEMPLATE"
    sms_notice_template: str = "SMS_NOTICE_TEMPLATE"
    wechat_enabled: bool = False
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    wechat_template_id: str = "WECHAT_NOTICE_TEMPLATE"
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_sender: str = "civicloop@localhost"
    notify_sweep_seconds: float = 1.0
    digest_window_seconds: int = 600
    # Live streams (docs/adr/0084): at most this many per web process, so logins and the gateway's
    # session checks always find a free thread; a comment line every heartbeat keeps proxies open.
    live_max_streams: int = 48
    live_heartbeat_seconds: float = 15.0

    @property
    def is_local(self) -> bool:
        """A local profile (make run, make test): development secrets and the dev inbox allowed."""
        return self.environment == "local"

    @field_validator("retry_delays", mode="before")
    @classmethod
    def _split_delays(cls, value: object) -> object:
        if isinstance(value, str):
            return [float(part) for part in value.split(",") if part.strip()]
        return value

    @property
    def database_name(self) -> str:
        """The database named in the URL's path."""
        path = self.mongo_url.rsplit("/", 1)[-1].split("?", 1)[0]
        return path or f"civicloop_{self.service}"


@cache
def load_settings(service: str) -> Settings:
    """Settings of `service`, with its own database URL from `<SERVICE>_MONGO_URL`."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}")
    default_url = f"mongodb://127.0.0.1:27017/civicloop_{service}"
    mongo_url = os.environ.get(f"{service.upper()}_MONGO_URL", default_url)
    postgres_url = os.environ.get(f"{service.upper()}_POSTGRES_URL", "")
    return Settings(service=service, mongo_url=mongo_url, postgres_url=postgres_url)
