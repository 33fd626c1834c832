"""Use cases of sessions: open one at login, refresh it, end it, and check the session behind a token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from services.accounts.keys.usecases import issue_access_token
from services.accounts.metrics import LOGINS, SESSIONS_REVOKED
from services.accounts.people import usecases as people
from services.accounts.people.domain import Account, Role
from services.accounts.sessions import domain
from services.accounts.sessions.domain import Session, SessionRefused
from services.accounts.sessions.models import sessions_store
from services.common.auth import Principal, TokenVerifier
from services.common.auth import Role as TokenRole
from services.common.errors import Unauthorized
from services.common.ids import new_id, utcnow
from services.common.settings import Settings
from services.common.store import from_state, holding, to_state

# Only staff and stewards work for one township; other roles carry no township claim.
TOWNSHIP_ROLES = frozenset({Role.DISPATCHER, Role.ADMIN, Role.STEWARD})


@dataclass
class Issued:
    """What a login or a refresh hands out: an access token, and the cookies to set (None: keep)."""

    session: Session
    access_token: str
    expires_in: int
    refresh_cookie: str | None
    live_cookie: str | None


def _claims_township(account: Account) -> str | None:
    return account.township if account.role in TOWNSHIP_ROLES else None


def get_session(session_id: str) -> Session | None:
    """A session by id."""
    document = sessions_store.get(session_id)
    return from_state(Session, document) if document else None


def open_session(account: Account, settings: Settings, method: str) -> Issued:
    """A new session for an account that just proved who it is."""
    now = utcnow()
    refresh_secret, live_secret = domain.new_secret(), domain.new_secret()
    session = Session(
        id=new_id(),
        account_id=account.id,
        subject=account.subject,
        role=str(account.role),
        township=_claims_township(account),
        refresh_hash=domain.digest(refresh_secret),
        live_hash=domain.digest(live_secret),
        created_at=now,
        expires_at=now + timedelta(days=settings.session_days),
        method=method,
    )
    sessions_store.insert(session.id, to_state(session), [])
    token, lifetime = issue_access_token(
        settings, sub=session.subject, role=session.role, township=session.township, session_id=session.id
    )
    return Issued(
        session,
        token,
        lifetime,
        domain.cookie_value(session.id, refresh_secret),
        domain.cookie_value(session.id, live_secret),
    )


@holding(sessions_store, lambda session_id, _secret, _settings: session_id)
def _rotate(session_id: str, secret: str, settings: Settings) -> Issued:
    session = get_session(session_id)
    if session is None:
        raise SessionRefused("no valid session cookie")
    now = utcnow()
    account = people.get_account(session.account_id) if session.active(now) else None
    try:
        if account is not None and not account.active:
            domain.revoke(session, now, "account_disabled")
            raise SessionRefused("this account cannot log in any more")
        refreshed = domain.refresh(session, secret, now)
    except SessionRefused:
        if session.revoked_at is not None and session.revoked_reason in (
            "refresh_reused",
            "account_disabled",
        ):
            sessions_store.save(session.id, session.version, to_state(session), [])
            SESSIONS_REVOKED.labels(session.revoked_reason).inc()
        raise
    assert account is not None
    # Role and township follow the account (an administrator may have changed them).
    session.role, session.township = str(account.role), _claims_township(account)
    sessions_store.save(session.id, session.version, to_state(session), [])
    token, lifetime = issue_access_token(
        settings, sub=session.subject, role=session.role, township=session.township, session_id=session.id
    )
    cookie = domain.cookie_value(session.id, refreshed.new_secret) if refreshed.new_secret else None
    return Issued(session, token, lifetime, cookie, None)


def refresh_session(cookie: str, settings: Settings) -> Issued:
    """A new access token for the session in the refresh cookie, whose secret rotates."""
    try:
        session_id, secret = domain.split_cookie(cookie)
        issued = _rotate(session_id, secret, settings)
    except (SessionRefused, Unauthorized):
        LOGINS.labels("refresh", "refused").inc()
        raise
    LOGINS.labels("refresh", "success").inc()
    return issued


@holding(sessions_store, lambda session_id, _reason: session_id)
def end_session(session_id: str, reason: str) -> bool:
    """Revoke a session; its access tokens stop passing the gateway within seconds."""
    session = get_session(session_id)
    if session is None or not domain.revoke(session, utcnow(), reason):
        return False
    sessions_store.save(session.id, session.version, to_state(session), [])
    SESSIONS_REVOKED.labels(reason).inc()
    return True


def end_sessions_of(account_id: str, reason: str) -> int:
    """Revoke every session of an account (disabled, or its password reset)."""
    return sum(end_session(session_id, reason) for session_id in other_sessions(account_id, keep=""))


def other_sessions(account_id: str, keep: str) -> list[str]:
    """The ids of an account's sessions still going, but `keep`."""
    found = sessions_store.collection.find({"account_id": account_id}, {"_id": 1, "revoked_at": 1})
    return [item["_id"] for item in found if item["_id"] != keep and item.get("revoked_at") is None]


def session_from_cookie(cookie: str) -> Session:
    """The active session a cookie (refresh or live) belongs to, without changing it."""
    session_id, _secret = domain.split_cookie(cookie)
    session = get_session(session_id)
    if session is None or not session.active(utcnow()):
        raise SessionRefused("no valid session cookie")
    return session


def live_principal(cookie: str) -> Principal:
    """Who a live-stream cookie belongs to (its session active, its secret right)."""
    session_id, secret = domain.split_cookie(cookie)
    session = get_session(session_id)
    if session is None or not session.active(utcnow()) or not domain.matches(session.live_hash, secret):
        raise SessionRefused("log in to follow live changes")
    return Principal(
        sub=session.subject, role=TokenRole(session.role), township=session.township, session_id=session.id
    )


def session_active(session_id: str) -> bool:
    """Whether a session may still be used."""
    session = get_session(session_id)
    return session is not None and session.active(utcnow())


def check_token(verifier: TokenVerifier, token: str) -> Principal:
    """The gateway's question for every call: a valid token whose session (if any) goes on."""
    principal = verifier.verify(token)
    if principal.session_id is not None and not session_active(principal.session_id):
        raise Unauthorized("this session has ended; log in again")
    return principal
