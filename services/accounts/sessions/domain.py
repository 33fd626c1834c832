"""Rules of sessions: secrets in cookies, refresh rotation with reuse detection, expiry.

Pure: no I/O. A session is opened by a login and holds the hash of its current refresh secret and of
the one before. Refreshing rotates the secret. The previous secret is still honoured for a few
seconds (two tabs refreshing at once), with a new access token but no new cookie; later, it means
a copied cookie is being replayed, so the whole session ends (RFC 9700 §4.14.2).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.common.domain import DomainError

ROTATION_GRACE = timedelta(seconds=10)


class SessionRefused(DomainError):
    """The cookie names no session that may go on; the caller must log in again."""


@dataclass
class Session:
    """One login on one device; `id` is the `sid` claim of its access tokens."""

    id: str
    account_id: str
    subject: str
    role: str
    township: str | None
    refresh_hash: str
    live_hash: str
    created_at: datetime
    expires_at: datetime
    previous_refresh_hash: str | None = None
    rotated_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    method: str = "password"
    version: int = 1

    def active(self, now: datetime) -> bool:
        """Not revoked and not expired."""
        return self.revoked_at is None and now < self.expires_at


@dataclass
class Refreshed:
    """What a refresh decided: a rotated secret (None: keep the cookie the other tab just got)."""

    session: Session
    new_secret: str | None


def digest(secret: str) -> str:
    """What is stored of a secret: its SHA-256 (a 256-bit random secret needs no slow hash)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    """A random secret for a cookie."""
    return secrets.token_urlsafe(32)


def cookie_value(session_id: str, secret: str) -> str:
    """`<session id>.<secret>`: the session is found by id, then the secret is compared."""
    return f"{session_id}.{secret}"


def split_cookie(value: str) -> tuple[str, str]:
    """The session id and the secret of a cookie; `SessionRefused` when it is not one of ours."""
    session_id, dot, secret = value.partition(".")
    if not dot or not session_id or not secret or len(value) > 200:
        raise SessionRefused("no valid session cookie")
    return session_id, secret


def matches(stored_hash: str | None, secret: str) -> bool:
    """Constant-time comparison of a presented secret with a stored hash."""
    return stored_hash is not None and hmac.compare_digest(stored_hash, digest(secret))


def refresh(session: Session, secret: str, now: datetime) -> Refreshed:
    """Rotate the refresh secret, or end the session when a used one comes back."""
    if not session.active(now):
        raise SessionRefused("the session has ended; log in again")
    if matches(session.refresh_hash, secret):
        rotated = new_secret()
        session.previous_refresh_hash = session.refresh_hash
        session.refresh_hash = digest(rotated)
        session.rotated_at = now
        return Refreshed(session, rotated)
    if (
        matches(session.previous_refresh_hash, secret)
        and session.rotated_at is not None
        and now - session.rotated_at <= ROTATION_GRACE
    ):
        return Refreshed(session, None)
    if matches(session.previous_refresh_hash, secret):
        revoke(session, now, "refresh_reused")
        raise SessionRefused("this refresh cookie was used already; the session has ended")
    raise SessionRefused("no valid session cookie")


def revoke(session: Session, now: datetime, reason: str) -> bool:
    """End the session (once); whether it was still going."""
    if session.revoked_at is not None:
        return False
    session.revoked_at = now
    session.revoked_reason = reason
    return True
