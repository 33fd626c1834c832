"""RS256 signing keys: the keyring, its rotation rules, and the JWKS that publishes its public halves.

A keyring is a JSON document `{"keys": [...]}`; each key has a `kid`, its private key (PKCS#8 PEM),
`active_from` (it signs from then on, unless a newer key is active) and `retire_at` (it stops being
published, so tokens it signed stop verifying). Rotation (docs/adr/0081):

1. `rotate` adds the next key, active after a publishing lead, and gives every older key a
   `retire_at` of that moment + the longest token lifetime + leeway: tokens they signed verify
   until they have expired by themselves.
2. The newest active key signs; published are all keys not yet retired, the next one included, so
   verifiers know it before it signs anything.
3. `retire` ends a key now (a leaked key); `prune` drops retired keys from the file.

The keyring lives in the environment (`CIVICLOOP_JWT_KEYS`) or in a file named by
`CIVICLOOP_JWT_KEYS_FILE` (locally `.run/<profile>/keys/jwt-keys.json`, in Kubernetes a mounted
Secret); a file is re-read when it changes, so a rotation needs no restart.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from services.common.ids import as_utc, isoformat, real_utcnow

# Verifiers may run a little fast or slow; a retiring key outlives its last token by this much.
LEEWAY = timedelta(seconds=60)


class KeyringError(ValueError):
    """The keyring is missing, unreadable, or a change to it would leave nothing to sign with."""


@dataclass(frozen=True)
class SigningKey:
    """One RSA key of the keyring."""

    kid: str
    private_pem: str
    active_from: datetime
    retire_at: datetime | None = None

    @cached_property
    def private_key(self) -> rsa.RSAPrivateKey:
        """The private key, parsed once."""
        key = serialization.load_pem_private_key(self.private_pem.encode(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise KeyringError(f"key {self.kid} is not an RSA key")
        return key

    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK (RFC 7517) for RS256 signatures."""
        jwk = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def published_at(self, now: datetime) -> bool:
        """Whether verifiers may still trust it."""
        return self.retire_at is None or now < self.retire_at

    def to_json(self) -> dict[str, Any]:
        """As stored in the keyring document."""
        return {
            "kid": self.kid,
            "private_key": self.private_pem,
            "active_from": isoformat(self.active_from),
            "retire_at": isoformat(self.retire_at) if self.retire_at else None,
        }


@dataclass(frozen=True)
class Keyring:
    """The keys, oldest first."""

    keys: tuple[SigningKey, ...] = field(default_factory=tuple)

    def signing_key(self, now: datetime) -> SigningKey:
        """The newest key that is active and not retired."""
        usable = [k for k in self.keys if k.active_from <= now and k.published_at(now)]
        if not usable:
            raise KeyringError("no signing key is active: run `civicloop keys rotate`")
        return max(usable, key=lambda k: k.active_from)

    def published(self, now: datetime) -> list[SigningKey]:
        """Every key verifiers should know now: the active ones, the retiring ones and the next one."""
        return [k for k in self.keys if k.published_at(now)]

    def jwks(self, now: datetime) -> dict[str, Any]:
        """The JSON Web Key Set of the published keys."""
        return {"keys": [k.public_jwk() for k in self.published(now)]}

    def find(self, kid: str, now: datetime) -> SigningKey | None:
        """A published key by its id."""
        return next((k for k in self.published(now) if k.kid == kid), None)

    def to_json(self) -> dict[str, Any]:
        """The keyring document."""
        return {"keys": [k.to_json() for k in self.keys]}

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Keyring:
        """Parse a keyring document; `KeyringError` names what is wrong."""
        try:
            keys = tuple(
                SigningKey(
                    kid=str(item["kid"]),
                    private_pem=str(item["private_key"]),
                    active_from=as_utc(datetime.fromisoformat(item["active_from"].replace("Z", "+00:00"))),
                    retire_at=(
                        as_utc(datetime.fromisoformat(item["retire_at"].replace("Z", "+00:00")))
                        if item.get("retire_at")
                        else None
                    ),
                )
                for item in document["keys"]
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise KeyringError(f"the keyring is not valid: {error!r}") from None
        return cls(keys)


def new_key(active_from: datetime, *, bits: int = 2048) -> SigningKey:
    """A fresh RSA key with a readable, unique id."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    kid = f"{active_from:%Y%m%d}-{secrets.token_hex(4)}"
    return SigningKey(kid=kid, private_pem=pem, active_from=active_from)


def rotate(
    keyring: Keyring,
    now: datetime,
    *,
    lead: timedelta,
    token_lifetime: timedelta,
    key: SigningKey | None = None,
) -> Keyring:
    """Add the next key (active after `lead`); older keys retire once their last token has expired."""
    if lead < timedelta(0):
        raise KeyringError("the publishing lead cannot be negative")
    incoming = key or new_key(now + lead)
    retire_at = incoming.active_from + token_lifetime + LEEWAY
    kept = tuple(
        k if k.retire_at is not None and k.retire_at <= retire_at else replace(k, retire_at=retire_at)
        for k in keyring.keys
    )
    return Keyring((*kept, incoming))


def retire(keyring: Keyring, kid: str, now: datetime) -> Keyring:
    """Stop publishing `kid` now (a leaked key): tokens it signed stop verifying once verifiers refetch."""
    if not any(k.kid == kid for k in keyring.keys):
        raise KeyringError(f"no key {kid!r} in the keyring")
    changed = Keyring(tuple(replace(k, retire_at=now) if k.kid == kid else k for k in keyring.keys))
    try:
        changed.signing_key(now)
    except KeyringError:
        raise KeyringError(f"retiring {kid} would leave no key to sign with: rotate first") from None
    return changed


def prune(keyring: Keyring, now: datetime) -> Keyring:
    """Drop the keys that are no longer published."""
    return Keyring(tuple(k for k in keyring.keys if k.published_at(now)))


def sign(key: SigningKey, claims: dict[str, Any]) -> str:
    """An RS256 JWT signed with `key`, naming it in the `kid` header."""
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})


# --- where the keyring lives ----------------------------------------------------------------------
def write_keyring(path: Path, keyring: Keyring) -> None:
    """Replace the file atomically (readers see the old or the new keyring, never half), owner-only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".jwt-keys-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(keyring.to_json(), out, indent=1)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_keyring(path: Path) -> Keyring:
    """The keyring in a file."""
    try:
        return Keyring.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise KeyringError(f"no keyring at {path}: run `civicloop keys init`") from None
    except json.JSONDecodeError as error:
        raise KeyringError(f"{path} is not JSON: {error}") from None


class KeyringSource:
    """The current keyring, from the environment or from a file re-read when it changes."""

    def __init__(self, text: str = "", path: str = "", *, recheck_seconds: float = 1.0) -> None:
        if not text and not path:
            raise KeyringError("set CIVICLOOP_JWT_KEYS or CIVICLOOP_JWT_KEYS_FILE")
        self.path = Path(path) if path and not text else None
        self.recheck_seconds = recheck_seconds
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._checked = 0.0
        self._keyring = Keyring.from_json(json.loads(text)) if text else read_keyring(Path(path))
        if self.path is not None:
            self._stamp = self._file_stamp()

    def _file_stamp(self) -> tuple[int, int] | None:
        assert self.path is not None
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def current(self) -> Keyring:
        """The keyring as it is now (a changed file is read again, at most every `recheck_seconds`)."""
        if self.path is None or time.monotonic() - self._checked < self.recheck_seconds:
            return self._keyring
        with self._lock:
            self._checked = time.monotonic()
            stamp = self._file_stamp()
            if stamp is not None and stamp != self._stamp:
                # A half-written file cannot be seen (writes replace it), but a broken edit by hand
                # can: keep signing with the keys we have rather than with none.
                try:
                    self._keyring = read_keyring(self.path)
                    self._stamp = stamp
                except KeyringError:
                    pass
        return self._keyring

    def signing_key(self) -> SigningKey:
        """The key that signs now."""
        # Real time: keys sign tokens, whose lifetimes PyJWT checks against the machine's clock.
        return self.current().signing_key(real_utcnow())
