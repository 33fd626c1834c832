"""The keyring of this process, and access tokens signed with its newest key."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app

from services.common.errors import Unauthorized
from services.common.ids import real_utcnow
from services.common.keyring import Keyring, KeyringSource, sign
from services.common.settings import Settings

EXTENSION = "civicloop.keyring"


def keyring_source(settings: Settings) -> KeyringSource:
    """The keyring named by the settings (environment first, then the file)."""
    return KeyringSource(settings.jwt_keys, settings.jwt_keys_file)


def current_keyring() -> Keyring:
    """The app's keyring as it is now."""
    return current_app.extensions[EXTENSION].current()


def public_key(kid: str) -> Any:
    """The public key of a published `kid` (this service verifies its own tokens without a fetch)."""
    key = current_app.extensions[EXTENSION].current().find(kid, real_utcnow())
    if key is None:
        raise Unauthorized("the token's signing key is not published (retired, or never ours)")
    return key.private_key.public_key()


def issue_access_token(
    settings: Settings, *, sub: str, role: str, township: str | None, session_id: str
) -> tuple[str, int]:
    """A short-lived RS256 access token for a session, and its lifetime in seconds."""
    # Real time: PyJWT checks `exp` against the machine's clock, not a simulation's (docs/adr/0100).
    now = real_utcnow()
    lifetime = settings.access_token_seconds
    claims: dict[str, Any] = {
        "sub": sub,
        "role": role,
        "sid": session_id,
        "iat": now,
        "exp": now + timedelta(seconds=lifetime),
        "iss": settings.jwt_issuer,
    }
    if township:
        claims["township"] = township
    key = current_app.extensions[EXTENSION].signing_key()
    return sign(key, claims), lifetime
