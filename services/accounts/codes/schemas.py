"""HTTP bodies and views of residents' code logins; they double as their OpenAPI document."""

from __future__ import annotations

from pydantic import Field

from services.common.schemas import Phone, StrictBody, View


class CodeRequest(StrictBody):
    phone: Phone = Field(description="a mainland mobile number; the code goes there by SMS")


class CodeLogin(StrictBody):
    phone: Phone
    code: str = Field(pattern=r"^[0-9]{6}$", description="the six digits received")


class CodeSent(View):
    """A code is on its way (locally: in the development inbox, GET /api/v1/dev/inbox?to=<phone>)."""

    phone_masked: str
    expires_in: int = Field(description="seconds the code is valid")
    resend_after: int = Field(description="seconds before another code may be asked for")
