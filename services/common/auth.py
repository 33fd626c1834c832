"""Bearer JWTs: who is calling, in which role, and what they may touch."""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
from flask import current_app, g, request

from services.common.errors import Forbidden, NotFound, ServiceUnavailable, Unauthorized
from services.common.ids import real_utcnow
from services.common.settings import Settings


class Role(enum.StrEnum):
    RESIDENT = "resident"
    VOLUNTEER = "volunteer"
    STEWARD = "steward"
    DISPATCHER = "dispatcher"
    ADMIN = "admin"


STAFF = frozenset({Role.DISPATCHER, Role.ADMIN})


@dataclass(frozen=True)
class Principal:
    """The caller, as the token says."""

    sub: str
    role: Role
    township: str | None = None
    # The login session behind an access token (none for operators' `civicloop token` tokens).
    session_id: str | None = None

    @property
    def is_staff(self) -> bool:
        """Dispatchers and admins, county-wide or of one township."""
        return self.role in STAFF

    def covers_township(self, township: str | None) -> bool:
        """Staff without a township claim are county-wide; township staff see their own."""
        return self.is_staff and (self.township is None or self.township == township)


# Looks up the public key of a `kid`; raises Unauthorized when no published key has that id.
KeyLookup = Callable[[str], Any]


class JwksKeys:
    """Public keys from a JWKS URL: cached for `cache_seconds`, refetched early for an unknown `kid`.

    An unknown `kid` refetches at most every `min_refresh_seconds`, so tokens with made-up key ids
    cannot turn each call into a fetch. A retired key leaves the cache within `cache_seconds`.
    """

    def __init__(self, url: str, cache_seconds: float = 60.0, min_refresh_seconds: float = 5.0) -> None:
        # cache_keys=False: PyJWT's per-kid cache never forgets a key, and a retired key must go.
        self.client = jwt.PyJWKClient(url, cache_keys=False, lifespan=max(cache_seconds, 1), timeout=5)
        self.min_refresh_seconds = min_refresh_seconds
        self._refreshed = 0.0
        self._lock = threading.Lock()

    def _find(self, kid: str, refresh: bool) -> Any:
        try:
            keys = self.client.get_jwk_set(refresh=refresh).keys
        except jwt.PyJWKClientError as error:
            raise ServiceUnavailable(f"the signing keys cannot be fetched now: {error}") from None
        return next((key.key for key in keys if key.key_id == kid), None)

    def __call__(self, kid: str) -> Any:
        key = self._find(kid, refresh=False)
        if key is None:
            with self._lock:
                if time.monotonic() - self._refreshed >= self.min_refresh_seconds:
                    self._refreshed = time.monotonic()
                    key = self._find(kid, refresh=True)
        if key is None:
            raise Unauthorized("the token's signing key is not published (retired, or never ours)")
        return key


class TokenVerifier:
    """Checks signatures — RS256 against the published keys, HS256 with the local secret — and claims.

    RS256 is the normal path (tokens from the accounts service). The HS256 development secret is
    accepted only in local profiles (`civicloop token`, tests); elsewhere a process given one refuses
    to start, so a development secret cannot open a deployment.
    """

    def __init__(self, settings: Settings, keys: KeyLookup | None = None) -> None:
        self.issuer = settings.jwt_issuer
        if settings.jwt_secret and not settings.is_local:
            raise RuntimeError(
                "CIVICLOOP_JWT_SECRET is a development secret for local profiles only; "
                "verify RS256 tokens through CIVICLOOP_JWT_JWKS_URL"
            )
        self.secret = settings.jwt_secret
        if keys is None and settings.jwt_jwks_url:
            keys = JwksKeys(settings.jwt_jwks_url, settings.jwks_cache_seconds)
        self.keys = keys
        if not self.secret and self.keys is None:
            raise RuntimeError("set CIVICLOOP_JWT_JWKS_URL (or, in a local profile, CIVICLOOP_JWT_SECRET)")

    def claims(self, token: str) -> dict[str, Any]:
        """The claims of a valid token; `Unauthorized` otherwise."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise Unauthorized(f"the token is not valid: {error}") from None
        algorithm = header.get("alg")
        if algorithm == "RS256" and self.keys is not None:
            key, algorithms = self.keys(str(header.get("kid") or "")), ["RS256"]
        elif algorithm == "HS256" and self.secret:
            key, algorithms = self.secret, ["HS256"]
        else:
            raise Unauthorized(f"tokens signed with {algorithm!r} are not accepted here")
        try:
            return jwt.decode(
                token,
                key,
                algorithms=algorithms,
                issuer=self.issuer,
                options={"require": ["sub", "exp", "role"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the token has expired") from None
        except jwt.PyJWTError as error:
            raise Unauthorized(f"the token is not valid: {error}") from None

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; `Unauthorized` otherwise."""
        claims = self.claims(token)
        try:
            role = Role(claims.get("role"))
        except ValueError:
            raise Unauthorized(f"unknown role {claims.get('role')!r}") from None
        return Principal(
            sub=str(claims["sub"]),
            role=role,
            township=claims.get("township") or None,
            session_id=claims.get("sid") or None,
        )


def issue_token(
    secret: str,
    *,
    sub: str,
    role: Role | str,
    township: str | None = None,
    ttl: timedelta = timedelta(hours=12),
    issuer: str = "civicloop",
) -> str:
    """A local HS256 token (the `civicloop token` command and the tests use it)."""
    # Real time: PyJWT checks `exp` against the machine's clock, not a simulation's.
    now = real_utcnow()
    claims: dict[str, object] = {
        "sub": sub,
        "role": str(Role(role)),
        "iat": now,
        "exp": now + ttl,
        "iss": issuer,
    }
    if township:
        claims["township"] = township
    return jwt.encode(claims, secret, algorithm="HS256")


def load_principal() -> None:
    """Before each request: read the bearer token, if any, into `g.principal`."""
    g.principal = None
    header = request.headers.get("Authorization", "")
    if not header:
        return
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("use 'Authorization: Bearer <token>'")
    g.principal = current_app.extensions["civicloop.auth"].verify(token.strip())


def require(*roles: Role) -> Principal:
    """The caller, who must be signed in and hold one of `roles` (any role when none are given)."""
    principal: Principal | None = g.get("principal")
    if principal is None:
        raise Unauthorized()
    if roles and principal.role not in roles:
        allowed = ", ".join(sorted(role.value for role in roles))
        raise Forbidden(f"this needs one of the roles: {allowed}")
    return principal


def require_owner_or_staff(principal: Principal, owner_id: str, township: str | None, what: str) -> None:
    """Owners and the staff covering the township pass; others learn nothing (404)."""
    if principal.sub == owner_id or principal.covers_township(township):
        return
    raise NotFound(f"no {what} with that id")


def township_scope(principal: Principal, asked: str | None, what: str) -> str | None:
    """The township a staff member's list or figure covers: their own, or the asked one if county-wide.

    Township staff asking for another township are refused, naming the `township` field.
    """
    if principal.township is None:
        return asked
    if asked and asked != principal.township:
        raise Forbidden(f"you see {what} of {principal.township} only", field="township")
    return principal.township


def mask_phone(phone: str | None) -> str | None:
    """`13812345678` → `138****5678`: enough to recognise, not enough to call."""
    if not phone:
        return phone
    digits = phone.strip()
    if len(digits) <= 4:
        return "*" * len(digits)
    keep_head = 3 if len(digits) >= 7 else 0
    return digits[:keep_head] + "*" * (len(digits) - keep_head - 4) + digits[-4:]
