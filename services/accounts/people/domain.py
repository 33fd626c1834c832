"""Rules of accounts: names, password strength, and the lockout after repeated wrong passwords.

Pure: no I/O. Lockout (docs/adr/0080): 5 wrong passwords within 15 minutes lock the login name for
15 minutes. Failures are counted per login name whether or not an account has it, and a locked name
is answered exactly as a wrong password (plus Retry-After), so answers never tell which names exist.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.common.domain import DomainError, StateConflict

LOCK_AFTER_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKED_FOR = timedelta(minutes=15)
PASSWORD_MIN = 10
# Argon2 hashes whatever it is given; a cap keeps a megabyte "password" from costing a megabyte of work.
PASSWORD_MAX = 128
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")
# Mainland mobile numbers: 11 digits starting 13–19 (an optional +86 / 86 / spaces and dashes around).
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
# The passwords people pick first; a longer list belongs in a breach corpus, not here.
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "12345678910",
        "0123456789",
        "1111111111",
        "qwertyuiop",
        "password123",
        "password1234",
        "iloveyou123",
        "woaini1314",
        "woaini520",
        "abc1234567",
        "a123456789",
        "qwerty12345",
        "1qaz2wsx3edc",
        "gutian12345",
        "civicloop123",
    }
)


class Role(enum.StrEnum):
    RESIDENT = "resident"
    VOLUNTEER = "volunteer"
    STEWARD = "steward"
    DISPATCHER = "dispatcher"
    ADMIN = "admin"


PASSWORD_ROLES = frozenset({Role.VOLUNTEER, Role.STEWARD, Role.DISPATCHER, Role.ADMIN})


class WeakPassword(DomainError):
    """The password breaks a rule; the message says which."""


class InvalidAccount(DomainError):
    """An account that cannot be made as asked."""


class NameTaken(StateConflict):
    """Another account has this login name."""


@dataclass
class Account:
    """Someone who can log in: `subject` is what tokens name them by (`sub`)."""

    id: str
    login: str
    role: Role
    subject: str
    display_name: str
    township: str | None = None
    volunteer_id: str | None = None
    phone: str | None = None
    password_hash: str | None = None
    active: bool = True
    created_at: datetime | None = None
    created_by: str | None = None
    # "county" for county-wide staff and for people of no township: an equality the index can serve.
    township_key: str = "county"
    version: int = 1


@dataclass
class LoginFailures:
    """Recent wrong passwords for one login name (whether an account has it or not)."""

    id: str
    count: int = 0
    first_at: datetime | None = None
    locked_until: datetime | None = None
    version: int = 1


@dataclass
class FailureOutcome:
    """What one more wrong password did: the lock it started (if any)."""

    failures: LoginFailures
    locked_now: bool = False
    retry_after: int = 0


@dataclass
class NewAccount:
    """What an administrator asks for."""

    username: str
    role: Role
    display_name: str
    township: str | None = None
    volunteer_id: str | None = None
    phone: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def normalise_username(username: str) -> str:
    """Login names compare without case or surrounding spaces."""
    return username.strip().lower()


def normalise_phone(phone: str) -> str:
    """`+86 138-1234-5678` → `13812345678`; `InvalidAccount` naming `phone` for anything else."""
    digits = re.sub(r"[\s-]", "", phone)
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == 11 + len(prefix):
            digits = digits[len(prefix) :]
            break
    if not MOBILE.match(digits):
        raise InvalidAccount("give a mainland mobile number of 11 digits", field="phone")
    return digits


def check_password(password: str, username: str | None = None, field_name: str = "password") -> None:
    """Refuse a weak password, naming the rule it breaks."""
    if len(password) < PASSWORD_MIN:
        raise WeakPassword(f"use at least {PASSWORD_MIN} characters", field=field_name)
    if len(password) > PASSWORD_MAX:
        raise WeakPassword(f"use at most {PASSWORD_MAX} characters", field=field_name)
    if len(set(password)) < 4:
        raise WeakPassword("use at least 4 different characters", field=field_name)
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS:
        raise WeakPassword("this password is among the most common ones; choose another", field=field_name)
    if username and len(username) >= 3 and normalise_username(username) in lowered:
        raise WeakPassword("the password must not contain the username", field=field_name)


def validate_new_account(new: NewAccount, known_volunteer: bool) -> None:
    """The role decides what else an account needs."""
    if not USERNAME.match(normalise_username(new.username)):
        raise InvalidAccount(
            "3–32 letters, digits, '.', '_' or '-', starting with a letter or digit", field="username"
        )
    if new.role not in PASSWORD_ROLES:
        raise InvalidAccount("residents log in with their phone and a code, not a password", field="role")
    if new.role == Role.VOLUNTEER:
        if not new.volunteer_id:
            raise InvalidAccount("a volunteer's account names their volunteer id", field="volunteer_id")
        if not known_volunteer:
            raise InvalidAccount("no active volunteer with this id is known", field="volunteer_id")
    elif new.volunteer_id:
        raise InvalidAccount("only volunteers' accounts name a volunteer id", field="volunteer_id")
    if new.role == Role.STEWARD and not new.township:
        raise InvalidAccount("an alley steward belongs to a township", field="township")


def locked_for(failures: LoginFailures | None, now: datetime) -> int:
    """Seconds the login name stays locked (0: not locked)."""
    if failures is None or failures.locked_until is None or failures.locked_until <= now:
        return 0
    return max(1, int((failures.locked_until - now).total_seconds() + 0.999))


def record_failure(failures: LoginFailures, now: datetime) -> FailureOutcome:
    """Count a wrong password; the fifth within the window locks the name."""
    if (
        failures.first_at is None
        or now - failures.first_at > FAILURE_WINDOW
        or (failures.locked_until is not None and failures.locked_until <= now)
    ):
        # A fresh window (the old one passed, or its lock ran out).
        failures.count, failures.first_at, failures.locked_until = 0, now, None
    failures.count += 1
    if failures.count >= LOCK_AFTER_FAILURES and failures.locked_until is None:
        failures.locked_until = now + LOCKED_FOR
        return FailureOutcome(failures, locked_now=True, retry_after=locked_for(failures, now))
    return FailureOutcome(failures, retry_after=locked_for(failures, now))
