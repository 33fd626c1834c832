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
    # Leases around read-modify-write (docs/adr/0005); off only on a server with atomic updates.
    document_locks: bool = True
    lock_ttl_seconds: float = 5.0
    jwt_secret: str = ""
    jwt_jwks_url: str = ""
    jwt_issuer: str = "civicloop"
    log_level: str = "INFO"
    # Check every HTTP answer against the service's OpenAPI document (test profiles): a status or
    # body the document does not declare becomes a 500 naming the mismatch (services/common/openapi.py).
    check_responses: bool = False
    open311_api_key: str = ""
    # Pairing visits (docs/adr/0054): how often the volunteers worker makes due visits and flags missed ones.
    pairing_sweep_seconds: float = 10.0
    # Follow-ups (docs/adr/0052): the share of completed requests the township staff call back anyway.
    followup_sample_percent: float = 10.0

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
