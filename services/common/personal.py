"""Personal data: fields sealed at rest with keys from the settings, and phone numbers kept out of logs.

Sealed values are Fernet tokens (AES-128-CBC with HMAC-SHA256, from `cryptography`) behind a prefix,
so a stored value says whether it is sealed. Keys rotate without downtime (docs/adr/0095): the first
key of `CIVICLOOP_PERSONAL_DATA_KEYS` seals, every listed key opens, and a value sealed by an older
key is sealed again by the newest the next time its document is saved.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from services.common.settings import Settings

PREFIX = "sealed:v1:"
# Local profiles only (make run, make test), as the HS256 development secret: anything else must set
# CIVICLOOP_PERSONAL_DATA_KEYS, or the process refuses to start.
DEVELOPMENT_KEY = "Y2l2aWNsb29wLWxvY2FsLXBlcnNvbmFsLWRhdGEta2U="
# Mainland mobile numbers (11 digits from 13x to 19x), with an optional +86 / 86 in front; not inside
# a longer run of digits, so timestamps and counters are left alone.
PHONE = re.compile(r"(?<!\d)(?:\+?86[ -]?)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


class PersonalDataError(RuntimeError):
    """A sealed value no configured key opens, or a deployment without keys."""


class Sealer:
    """Seals and opens personal fields with the configured keys (the first one seals)."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise PersonalDataError("no personal-data key configured")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    def seal(self, value: str | None) -> str | None:
        """The value sealed for storage (None stays None)."""
        if value is None or value == "":
            return value
        return PREFIX + self._fernet.encrypt(value.encode()).decode()

    def open(self, stored: str | None) -> str | None:
        """The plain value of a stored one; values stored before sealing began are returned as they are."""
        if not stored or not stored.startswith(PREFIX):
            return stored
        try:
            return self._fernet.decrypt(stored[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise PersonalDataError(
                "a sealed value no configured key opens (a key retired too early?)"
            ) from None


_lock = threading.Lock()
_sealer: Sealer | None = None


def keys_of(settings: Settings) -> list[str]:
    """The personal-data keys of the settings, newest first (the development key in local profiles)."""
    keys = [key.strip() for key in settings.personal_data_keys.split(",") if key.strip()]
    if not keys and settings.is_local:
        keys = [DEVELOPMENT_KEY]
    if not keys:
        raise PersonalDataError(
            "set CIVICLOOP_PERSONAL_DATA_KEYS (Fernet keys, newest first): personal fields are sealed at rest"
        )
    return keys


def configure(settings: Settings) -> None:
    """Seal with this process's keys from now on (the web app and the worker call it at start).

    A process of a service that stores no personal field may run without keys; the services that do
    call `require_keys` at start, so a deployment without keys fails there and not at a resident's order.
    """
    global _sealer
    try:
        sealer = Sealer(keys_of(settings))
    except PersonalDataError:
        sealer = None
    with _lock:
        _sealer = sealer if sealer is not None else _Unconfigured()


def require_keys(settings: Settings) -> None:
    """Refuse to start without personal-data keys (outside local profiles)."""
    keys_of(settings)


class _Unconfigured(Sealer):
    """A process without keys: sealing or opening a sealed value is refused."""

    def __init__(self) -> None:
        pass

    def seal(self, value: str | None) -> str | None:
        if not value:
            return value
        raise PersonalDataError("CIVICLOOP_PERSONAL_DATA_KEYS is not set: personal fields cannot be sealed")

    def open(self, stored: str | None) -> str | None:
        if stored and stored.startswith(PREFIX):
            raise PersonalDataError("CIVICLOOP_PERSONAL_DATA_KEYS is not set: sealed fields cannot be opened")
        return stored


def sealer() -> Sealer:
    """The process's sealer (the development key until `configure` ran: unit tests, tools)."""
    global _sealer
    with _lock:
        if _sealer is None:
            _sealer = Sealer([DEVELOPMENT_KEY])
        return _sealer


def seal(value: str | None) -> str | None:
    """A personal field sealed for storage."""
    return sealer().seal(value)


def unseal(stored: str | None) -> str | None:
    """A stored personal field, opened."""
    return sealer().open(stored)


def mask_phones(text: str) -> str:
    """Every mobile number in a text with its middle four digits hidden (138****0001)."""
    return PHONE.sub(lambda match: f"{match.group(1)}****{match.group(3)}", text)


def redact(value: Any) -> Any:
    """A log value with the phone numbers in it masked, through dicts, lists and tuples."""
    if isinstance(value, str):
        return mask_phones(value) if len(value) >= 11 else value
    if isinstance(value, dict):
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact(item) for item in value)
    return value


def redact_log_event(_logger: object, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    """A structlog processor: no log line carries a phone number in full."""
    return {key: redact(value) for key, value in event.items()}
