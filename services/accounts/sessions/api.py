"""HTTP entrypoints of logging in: password login, refresh, logout, who am I, and the gateway's check."""

from __future__ import annotations

from datetime import timedelta

from flask import Response, current_app, g, make_response, request
from flask_openapi3 import APIBlueprint, Tag

from services.accounts.people import usecases as people
from services.accounts.people.schemas import PasswordChange, account_view
from services.accounts.sessions import usecases
from services.accounts.sessions.domain import SessionRefused
from services.accounts.sessions.schemas import (
    AUTH_PATH,
    LIVE_COOKIE,
    LIVE_PATH,
    REFRESH_COOKIE,
    PasswordLogin,
    SessionInfo,
    SessionView,
)
from services.common.auth import require
from services.common.errors import Unauthorized
from services.common.ids import real_utcnow, utcnow
from services.common.schemas import ERROR_RESPONSES, Problem
from services.common.settings import Settings

auth_api = APIBlueprint(
    "auth",
    __name__,
    url_prefix=AUTH_PATH,
    abp_tags=[Tag(name="auth", description="登录与令牌")],
    abp_responses=ERROR_RESPONSES,
)
check_api = APIBlueprint("auth_check", __name__, url_prefix="/internal/auth", abp_tags=[Tag(name="gateway")])


def settings() -> Settings:
    """This app's settings."""
    return current_app.config["CIVICLOOP_SETTINGS"]


def _secure() -> bool:
    # Secure cookies whenever the browser came over TLS (the gateway says so when it ends TLS).
    return request.is_secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def session_response(issued: usecases.Issued, status: int = 200) -> Response:
    """The session view, with its cookies set (httpOnly, SameSite=Strict, each on its own path)."""
    account = people.get_account(issued.session.account_id)
    view = SessionView(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        expires_at=real_utcnow() + timedelta(seconds=issued.expires_in),
        session_id=issued.session.id,
        account=account_view(account),
    )
    response = make_response(view.model_dump(mode="json"), status)
    max_age = int((issued.session.expires_at - utcnow()).total_seconds())
    for name, value, path in (
        (REFRESH_COOKIE, issued.refresh_cookie, AUTH_PATH),
        (LIVE_COOKIE, issued.live_cookie, LIVE_PATH),
    ):
        if value is not None:
            response.set_cookie(
                name, value, max_age=max_age, path=path, httponly=True, samesite="Strict", secure=_secure()
            )
    return response


def _clear_cookies(response: Response) -> Response:
    for name, path in ((REFRESH_COOKIE, AUTH_PATH), (LIVE_COOKIE, LIVE_PATH)):
        response.delete_cookie(name, path=path, httponly=True, samesite="Strict", secure=_secure())
    return response


def refused(detail: str, retry_after: int = 0) -> Unauthorized:
    """A 401 that reads the same for a wrong password and a locked name (plus Retry-After)."""
    headers = {"WWW-Authenticate": 'Bearer realm="civicloop"'}
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    return Unauthorized(detail, headers=headers)


@auth_api.post("/login", responses={200: SessionView, 401: Problem})
def login(body: PasswordLogin) -> Response:
    """Log in with a username and password (staff, stewards, volunteers).

    Five wrong passwords within 15 minutes lock the name for 15 minutes; a locked name answers as a
    wrong password does, plus `Retry-After`.
    """
    try:
        account = people.authenticate(body.username, body.password)
    except people.LoginRefused as refusal:
        raise refused("wrong username or password", refusal.retry_after) from None
    return session_response(usecases.open_session(account, settings(), "password"))


@auth_api.post("/refresh", responses={200: SessionView, 401: Problem})
def refresh() -> Response:
    """A new access token for the session in the refresh cookie; the cookie is rotated."""
    cookie = request.cookies.get(REFRESH_COOKIE)
    if not cookie:
        raise refused("no session cookie: log in")
    try:
        issued = usecases.refresh_session(cookie, settings())
    except SessionRefused as refusal:
        raise refused(str(refusal)) from None
    return session_response(issued)


@auth_api.post("/logout", responses={204: None})
def logout() -> Response:
    """End the session (from the refresh cookie, or the bearer token's); its tokens stop working."""
    session_id = None
    cookie = request.cookies.get(REFRESH_COOKIE)
    if cookie:
        try:
            session_id = usecases.session_from_cookie(cookie).id
        except SessionRefused:
            session_id = None
    principal = g.get("principal")
    if session_id is None and principal is not None:
        session_id = principal.session_id
    if session_id is not None:
        usecases.end_session(session_id, "logout")
    return _clear_cookies(make_response("", 204))


@auth_api.get("/me", responses={200: SessionInfo}, security=[{"bearer": []}])
def me() -> SessionInfo:
    """The caller's account and session."""
    principal = require()
    session = usecases.get_session(principal.session_id) if principal.session_id else None
    if session is None:
        raise Unauthorized("this token belongs to no login session (an operator's token?)")
    account = people.get_account(session.account_id)
    return SessionInfo(
        account=account_view(account),
        session_id=session.id,
        session_started_at=session.created_at,
        session_expires_at=session.expires_at,
        method=session.method,
    )


@auth_api.post("/password", responses={204: None}, security=[{"bearer": []}])
def change_password(body: PasswordChange) -> Response:
    """Change one's own password; every other session of the account ends."""
    principal = require()
    session = usecases.get_session(principal.session_id) if principal.session_id else None
    if session is None:
        raise Unauthorized("log in to change your password")
    account = people.get_account(session.account_id)
    try:
        people.authenticate(account.login, body.current_password)
    except people.LoginRefused as refusal:
        raise refused("the current password is wrong", refusal.retry_after) from None
    people.set_password(account.id, body.new_password)
    for other in usecases.other_sessions(account.id, keep=session.id):
        usecases.end_session(other, "password_changed")
    return make_response("", 204)


@check_api.get("/check", responses={204: None, 401: Problem}, security=[{"bearer": []}])
def check() -> Response:
    """For the gateway (nginx auth_request), never routed to the public: 204 when the bearer token is
    valid and its session goes on, 401 otherwise; no token is the services' business (204)."""
    principal = g.get("principal")
    ended = principal is not None and principal.session_id is not None
    if ended and not usecases.session_active(principal.session_id):
        raise Unauthorized("this session has ended; log in again")
    return make_response("", 204)
