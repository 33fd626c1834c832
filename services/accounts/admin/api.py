"""HTTP entrypoints of account administration (admins; township admins for their township)."""

from __future__ import annotations

from flask import Response, g, make_response
from flask_openapi3 import APIBlueprint, Tag

from services.accounts.audit import usecases as audit_trail
from services.accounts.people import usecases as people
from services.accounts.people.domain import Account, NewAccount, Role
from services.accounts.people.schemas import (
    AccountChange,
    AccountCreate,
    AccountPage,
    AccountPath,
    AccountQuery,
    AccountView,
    PasswordReset,
    account_page,
    account_view,
)
from services.accounts.sessions import usecases as sessions
from services.common import audit
from services.common.auth import Principal, require, township_scope
from services.common.auth import Role as TokenRole
from services.common.errors import Forbidden, NotFound
from services.common.ids import utcnow
from services.common.schemas import ERROR_RESPONSES, Problem

admin_api = APIBlueprint(
    "accounts",
    __name__,
    url_prefix="/api/v1/accounts",
    abp_tags=[Tag(name="accounts", description="账号管理")],
    abp_security=[{"bearer": []}],
    abp_responses=ERROR_RESPONSES,
)


def _audit(principal: Principal, action: str, account: Account, **details: str | None) -> None:
    # The account's change is written first; its entry follows in this service's own trail
    # (docs/adr/0096: the one place the entry is a second write rather than an outbox event).
    entry = audit.entry(
        principal, action, "account", account.id, utcnow(), township=account.township, **details
    )
    audit_trail.record(entry, g.get("request_id"))


def _covered(principal: Principal, account: Account) -> Account:
    # A township admin manages their township's accounts; others' ids are as good as unknown.
    if principal.township is not None and account.township != principal.township:
        raise NotFound("no account with that id")
    return account


@admin_api.post("", responses={201: AccountView, 409: Problem})
def create_account(body: AccountCreate) -> tuple[AccountView, int]:
    """Make an account for a volunteer (naming their volunteer id), a steward or staff."""
    principal = require(TokenRole.ADMIN)
    township = body.township
    if principal.township is not None:
        if township and township != principal.township:
            raise Forbidden(f"you manage accounts of {principal.township} only", field="township")
        if body.role == Role.ADMIN and township is None:
            raise Forbidden("a township admin cannot make county-wide admins", field="township")
        township = township or principal.township
    new = NewAccount(
        username=body.username,
        role=body.role,
        display_name=body.display_name,
        township=township,
        volunteer_id=body.volunteer_id,
        phone=body.phone,
    )
    made = people.create_account(new, body.password, principal.sub)
    _audit(principal, "account.created", made, account_role=made.role.value, username=made.login)
    return account_view(made), 201


@admin_api.get("", responses={200: AccountPage})
def list_accounts(query: AccountQuery) -> AccountPage:
    """Accounts, newest first, by role and township (township admins: their township)."""
    principal = require(TokenRole.ADMIN)
    township = township_scope(principal, query.township, "accounts")
    found = people.list_accounts(
        role=query.role.value if query.role else None,
        township=township,
        limit=query.limit,
        before=query.before,
    )
    return account_page(found, query.limit)


@admin_api.get("/<account_id>", responses={200: AccountView})
def get_account(path: AccountPath) -> AccountView:
    """One account."""
    principal = require(TokenRole.ADMIN)
    return account_view(_covered(principal, people.get_account(path.account_id)))


@admin_api.patch("/<account_id>", responses={200: AccountView})
def change_account(path: AccountPath, body: AccountChange) -> AccountView:
    """Rename, move to a township, or disable (its sessions end at once) or enable an account."""
    principal = require(TokenRole.ADMIN)
    _covered(principal, people.get_account(path.account_id))
    changes = body.model_dump(exclude_unset=True)
    if principal.township is not None and changes.get("township", principal.township) != principal.township:
        raise Forbidden(f"you manage accounts of {principal.township} only", field="township")
    changed = people.change_account(path.account_id, **changes)
    if changes.get("active") is False:
        sessions.end_sessions_of(changed.id, "account_disabled")
    _audit(principal, "account.changed", changed, **{key: str(value) for key, value in changes.items()})
    return account_view(changed)


@admin_api.post("/<account_id>/password", responses={204: None})
def reset_password(path: AccountPath, body: PasswordReset) -> Response:
    """Give the account a new password; its sessions end and its name is unlocked."""
    principal = require(TokenRole.ADMIN)
    account = _covered(principal, people.get_account(path.account_id))
    people.set_password(account.id, body.password)
    sessions.end_sessions_of(account.id, "password_reset")
    people.unlock(account.login)
    _audit(principal, "account.password_reset", account)
    return make_response("", 204)


@admin_api.post("/<account_id>/unlock", responses={204: None})
def unlock(path: AccountPath) -> Response:
    """Forget the account's wrong passwords (a locked name may log in again at once)."""
    principal = require(TokenRole.ADMIN)
    account = _covered(principal, people.get_account(path.account_id))
    people.unlock(account.login)
    _audit(principal, "account.unlocked", account)
    return make_response("", 204)
