"""Bearer JWTs: who is calling, in which role, and what they may touch."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta

import jwt
from flask import current_app, g, request

from services.common.errors import Forbidden, NotFound, Unauthorized
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

    @property
    def is_staff(self) -> bool:
        """Dispatchers and admins, county-wide or of one township."""
        return self.role in STAFF

    def covers_township(self, township: str | None) -> bool:
        """Staff without a township claim are county-wide; township staff see their own."""
        return self.is_staff and (self.township is None or self.township == township)


class TokenVerifier:
    """Checks signatures (HS256 with the local secret, or RS256 through a JWKS URL) and claims."""

    def __init__(self, settings: Settings) -> None:
        self.secret = settings.jwt_secret
        self.issuer = settings.jwt_issuer
        self.jwks = jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=True) if settings.jwt_jwks_url else None
        if not self.secret and self.jwks is None:
            raise RuntimeError("set CIVICLOOP_JWT_SECRET or CIVICLOOP_JWT_JWKS_URL")

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; `Unauthorized` otherwise."""
        try:
            if self.jwks is not None:
                key = self.jwks.get_signing_key_from_jwt(token).key
                claims = jwt.decode(token, key, algorithms=["RS256"], options={"require": ["sub", "exp"]})
            else:
                claims = jwt.decode(
                    token,
                    self.secret,
                    algorithms=["HS256"],
                    issuer=self.issuer,
                    options={"require": ["sub", "exp", "role"]},
                )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the token has expired") from None
        except jwt.PyJWTError as error:
            raise Unauthorized(f"the token is not valid: {error}") from None
        try:
            role = Role(claims.get("role"))
        except ValueError:
            raise Unauthorized(f"unknown role {claims.get('role')!r}") from None
        return Principal(sub=str(claims["sub"]), role=role, township=claims.get("township") or None)


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
