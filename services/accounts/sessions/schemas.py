"""HTTP bodies and views of logging in; they double as their OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from services.accounts.people.schemas import AccountView
from services.common.schemas import StrictBody, View

REFRESH_COOKIE = "civicloop_refresh"
LIVE_COOKIE = "civicloop_live"
AUTH_PATH = "/api/v1/auth"
LIVE_PATH = "/api/v1/live"


class PasswordLogin(StrictBody):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=128)


class SessionView(View):
    """A logged-in session: send `access_token` as `Authorization: Bearer …` until `expires_at`, then
    POST /api/v1/auth/refresh (the refresh cookie travels by itself) for the next one."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="seconds the access token is valid")
    expires_at: datetime
    session_id: str
    account: AccountView


class SessionInfo(View):
    """The caller's account, and the session their token belongs to."""

    account: AccountView
    session_id: str | None
    session_started_at: datetime | None
    session_expires_at: datetime | None
    method: str | None = Field(description="password or code")
