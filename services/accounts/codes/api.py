"""HTTP entrypoints of residents' logins: ask for a code, log in with it."""

from __future__ import annotations

from flask import Response
from flask_openapi3 import APIBlueprint, Tag

from services.accounts.codes import domain, usecases
from services.accounts.codes.schemas import CodeLogin, CodeRequest, CodeSent
from services.accounts.people.domain import normalise_phone
from services.accounts.sessions.api import refused, session_response, settings
from services.accounts.sessions.schemas import AUTH_PATH, SessionView
from services.accounts.sessions.usecases import open_session
from services.common.auth import mask_phone
from services.common.errors import Problem as ProblemError
from services.common.schemas import ERROR_RESPONSES, Problem

codes_api = APIBlueprint(
    "codes",
    __name__,
    url_prefix=AUTH_PATH,
    abp_tags=[Tag(name="auth", description="登录与令牌")],
    abp_responses=ERROR_RESPONSES,
)


@codes_api.post("/code", responses={202: CodeSent, 429: Problem})
def request_code(body: CodeRequest) -> tuple[CodeSent, int]:
    """Send a one-time code to a phone (any phone: the first login makes the resident's account)."""
    phone = normalise_phone(body.phone)
    try:
        usecases.send_code(phone)
    except domain.TooSoon as refusal:
        raise ProblemError(
            str(refusal),
            status=429,
            slug="too-many-codes",
            title="Too Many Requests",
            field="phone",
            headers={"Retry-After": str(refusal.retry_after)},
        ) from None
    sent = CodeSent(
        phone_masked=mask_phone(phone) or "",
        expires_in=int(domain.VALID_FOR.total_seconds()),
        resend_after=int(domain.RESEND_AFTER.total_seconds()),
    )
    return sent, 202


@codes_api.post("/code/verify", responses={200: SessionView, 401: Problem})
def log_in_with_code(body: CodeLogin) -> Response:
    """Log in with the code; the first verified code makes the resident's account."""
    phone = normalise_phone(body.phone)
    try:
        account = usecases.log_in_with_code(phone, body.code)
    except domain.CodeRefused as refusal:
        raise refused(str(refusal)) from None
    return session_response(open_session(account, settings(), "code"))
