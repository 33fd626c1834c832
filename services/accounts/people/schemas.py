"""HTTP bodies and views of accounts; they double as their OpenAPI document."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from services.accounts.people.domain import Account, Role
from services.common.auth import mask_phone
from services.common.paging import PageQuery
from services.common.schemas import Phone, StrictBody, View

Password = str


class AccountCreate(StrictBody):
    username: str = Field(min_length=3, max_length=32, description="3–32 of a-z 0-9 . _ -")
    password: Password = Field(min_length=1, max_length=128, description="10+ characters, not a common one")
    role: Role = Field(description="volunteer, steward, dispatcher or admin (residents log in by phone)")
    display_name: str = Field(min_length=1, max_length=60)
    township: str | None = Field(None, max_length=20, description="township staff and stewards")
    volunteer_id: str | None = Field(None, max_length=64, description="a volunteer's id (volunteers only)")
    phone: Phone | None = Field(None, description="for SMS notices")


class AccountChange(StrictBody):
    display_name: str | None = Field(None, min_length=1, max_length=60)
    township: str | None = Field(None, max_length=20)
    active: bool | None = Field(None, description="false: the account cannot log in, its sessions end")


class PasswordReset(StrictBody):
    password: Password = Field(min_length=1, max_length=128)


class PasswordChange(StrictBody):
    current_password: Password = Field(min_length=1, max_length=128)
    new_password: Password = Field(min_length=1, max_length=128)


class AccountPath(BaseModel):
    account_id: str = Field(min_length=1, max_length=64)


class AccountQuery(PageQuery):
    role: Role | None = None
    township: str | None = Field(None, max_length=20)


class AccountView(View):
    """An account as staff and its holder see it (no password hash; the phone masked)."""

    id: str
    username: str | None = Field(description="null for residents, who log in with their phone")
    role: Role
    subject: str = Field(description="the `sub` of this account's tokens (a volunteer's id for volunteers)")
    display_name: str
    township: str | None
    volunteer_id: str | None
    phone_masked: str | None
    active: bool
    created_at: datetime | None


class AccountPage(View):
    items: list[AccountView]
    next_before: str | None = None


def account_view(account: Account) -> AccountView:
    """An account as the API shows it."""
    return AccountView(
        id=account.id,
        username=None if account.login.startswith("phone:") else account.login,
        role=account.role,
        subject=account.subject,
        display_name=account.display_name,
        township=account.township,
        volunteer_id=account.volunteer_id,
        phone_masked=mask_phone(account.phone),
        active=account.active,
        created_at=account.created_at,
    )


def account_page(accounts: list[Account], limit: int) -> AccountPage:
    """One page of accounts."""
    return AccountPage(
        items=[account_view(account) for account in accounts],
        next_before=accounts[-1].id if accounts and len(accounts) == limit else None,
    )
