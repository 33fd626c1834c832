"""Rules of one-time login codes for residents (docs/adr/0080).

Pure: no I/O. A code is 6 digits, valid for 5 minutes and for 5 tries; a phone gets a new code at
most once a minute and 5 times an hour. Only a salted hash is kept once the code has been handed to
the notifier.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.common.domain import DomainError

DIGITS = 6
VALID_FOR = timedelta(minutes=5)
MAX_ATTEMPTS = 5
RESEND_AFTER = timedelta(seconds=60)
PER_HOUR = 5


class TooSoon(DomainError):
    """Another code for this phone now would be too many; `retry_after` says when."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, field="phone")
        self.retry_after = retry_after


class CodeRefused(DomainError):
    """Wrong, expired, used up or never sent: the caller hears the same for each."""


@dataclass
class LoginCode:
    """The code a phone may log in with now; `id` is the phone number."""

    id: str
    code_hash: str = ""
    salt: str = ""
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    attempts: int = 0
    used: bool = True
    sent_at: list[datetime] = field(default_factory=list)
    # The code itself, only until the notifier has taken it (then only its hash remains).
    undelivered_code: str | None = None
    delivery_pending: bool = False
    version: int = 1


def new_code() -> str:
    """Six random digits."""
    return f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"


def _hash(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def issue(state: LoginCode, code: str, now: datetime) -> None:
    """Replace the phone's code with `code`, within the sending limits."""
    recent = [moment for moment in state.sent_at if now - moment < timedelta(hours=1)]
    if recent and now - recent[-1] < RESEND_AFTER:
        wait = RESEND_AFTER - (now - recent[-1])
        raise TooSoon("a code was sent a moment ago; wait before asking again", _seconds(wait))
    if len(recent) >= PER_HOUR:
        wait = timedelta(hours=1) - (now - recent[0])
        raise TooSoon(f"at most {PER_HOUR} codes an hour for one phone", _seconds(wait))
    state.salt = secrets.token_hex(8)
    state.code_hash = _hash(state.salt, code)
    state.issued_at, state.expires_at = now, now + VALID_FOR
    state.attempts, state.used = 0, False
    state.sent_at = [*recent, now]
    state.undelivered_code, state.delivery_pending = code, True


def check(state: LoginCode | None, code: str, now: datetime) -> None:
    """Accept the right code once (it is used up then); count a wrong one; `CodeRefused` otherwise."""
    if state is None or state.used or state.expires_at is None or now >= state.expires_at:
        raise CodeRefused("the code is wrong or has expired; ask for a new one", field="code")
    if state.attempts >= MAX_ATTEMPTS:
        raise CodeRefused("the code is wrong or has expired; ask for a new one", field="code")
    if not hmac.compare_digest(state.code_hash, _hash(state.salt, code)):
        state.attempts += 1
        raise CodeRefused("the code is wrong or has expired; ask for a new one", field="code")
    state.used = True


def _seconds(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() + 0.999))
