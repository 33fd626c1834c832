"""Use cases of accounts: make and change them, check a password with the lockout, and keep the
volunteers and teams the volunteers service announces."""

from __future__ import annotations

import functools
from dataclasses import replace

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.accounts.metrics import LOCKOUTS, LOGINS
from services.accounts.people import domain
from services.accounts.people.domain import Account, LoginFailures, NewAccount, Role
from services.accounts.people.models import (
    AccountDocument,
    KnownTeamDocument,
    KnownVolunteerDocument,
    accounts_store,
    failures_store,
)
from services.common import contracts
from services.common.domain import Missing
from services.common.events import Envelope
from services.common.ids import new_id, utcnow
from services.common.paging import newest_first
from services.common.store import AlreadyExists, ConcurrencyConflict, from_state, holding, to_state

# Argon2id with argon2-cffi's defaults (RFC 9106's second recommended option: 64 MiB, 3 passes).
HASHER = PasswordHasher()


class LoginRefused(Exception):
    """Wrong name or password, or a locked name: the caller hears the same either way."""

    def __init__(self, retry_after: int = 0) -> None:
        super().__init__("wrong username or password")
        self.retry_after = retry_after


@functools.cache
def _decoy_hash() -> str:
    # Unknown names are checked against this, so they take as long as known ones.
    return HASHER.hash("a decoy that no one types " + new_id())


def hash_password(password: str) -> str:
    """An Argon2id hash (salted; parameters stored in it)."""
    return HASHER.hash(password)


def _load(document: dict | None) -> Account | None:
    return from_state(Account, document, role=Role) if document else None


def get_account(account_id: str) -> Account:
    """An account by id; `Missing` when there is none."""
    account = _load(accounts_store.get(account_id))
    if account is None:
        raise Missing("no account with that id")
    return account


def find_by_login(login: str) -> Account | None:
    """The account with this login name."""
    return _load(accounts_store.collection.find_one({"login": login}, {"outbox": 0}))


def accounts_of_subject(subject: str) -> list[Account]:
    """Active accounts whose tokens name `subject` (a volunteer id may have one login)."""
    found = accounts_store.collection.find({"subject": subject}, {"outbox": 0})
    return [account for account in map(_load, found) if account is not None and account.active]


def staff_of(township: str | None) -> list[Account]:
    """Active dispatchers and admins of a township (None: county-wide staff)."""
    found = accounts_store.collection.find({"township_key": township or "county"}, {"outbox": 0})
    return [
        account
        for account in map(_load, found)
        if account is not None and account.active and account.role in (Role.DISPATCHER, Role.ADMIN)
    ]


def list_accounts(*, role: str | None, township: str | None, limit: int, before: str | None) -> list[Account]:
    """Accounts newest first, by role and township (a township key is the indexed equality)."""
    query: dict = {}
    if township:
        query["township_key"] = township
    if role:
        query["role"] = role
    documents = newest_first(
        accounts_store.collection, query, limit=limit, before=before, projection={"outbox": 0}
    )
    return [account for account in map(_load, documents) if account is not None]


def known_volunteer(volunteer_id: str) -> KnownVolunteerDocument | None:
    """The volunteer as last announced."""
    return KnownVolunteerDocument.objects(id=volunteer_id).first()


def create_account(new: NewAccount, password: str, created_by: str) -> Account:
    """An account for staff, a steward or a volunteer (volunteers: a known, active volunteer id)."""
    volunteer = known_volunteer(new.volunteer_id) if new.volunteer_id else None
    domain.validate_new_account(new, known_volunteer=bool(volunteer and volunteer.active))
    domain.check_password(password, new.username)
    login = domain.normalise_username(new.username)
    account_id = new_id()
    account = Account(
        id=account_id,
        login=login,
        role=new.role,
        subject=new.volunteer_id if new.role == Role.VOLUNTEER and new.volunteer_id else account_id,
        display_name=new.display_name,
        township=new.township,
        township_key=new.township or "county",
        volunteer_id=new.volunteer_id,
        phone=domain.normalise_phone(new.phone) if new.phone else None,
        password_hash=hash_password(password),
        created_at=utcnow(),
        created_by=created_by,
    )
    if find_by_login(login) is not None:
        raise domain.NameTaken("another account has this username", field="username")
    try:
        accounts_store.insert(account.id, to_state(account), [])
    except AlreadyExists:
        raise domain.NameTaken("another account has this username", field="username") from None
    except Exception as error:  # the unique index on login: two creations raced
        if "duplicate key" in str(error).lower() or "E11000" in str(error):
            raise domain.NameTaken("another account has this username", field="username") from None
        raise
    return account


def resident_by_phone(phone: str) -> Account:
    """The resident account of a verified phone, made on its first login."""
    login = f"phone:{phone}"
    existing = find_by_login(login)
    if existing is not None:
        return existing
    account_id = new_id()
    account = Account(
        id=account_id,
        login=login,
        role=Role.RESIDENT,
        subject=account_id,
        display_name="居民" + phone[-4:],
        phone=phone,
        created_at=utcnow(),
        created_by="self",
    )
    try:
        accounts_store.insert(account.id, to_state(account), [])
    except Exception:
        # Two first logins of one phone at once: the other one made it.
        raced = find_by_login(login)
        if raced is None:
            raise
        return raced
    return account


@holding(accounts_store, lambda account_id, **_changes: account_id)
def change_account(account_id: str, **changes: object) -> Account:
    """Change an account's display name, township or whether it may log in."""
    account = get_account(account_id)
    if "township" in changes:
        changes["township_key"] = changes["township"] or "county"
    changed = replace(account, **changes)  # type: ignore[arg-type]
    accounts_store.save(account.id, account.version, to_state(changed), [])
    return changed


@holding(accounts_store, lambda account_id, _password: account_id)
def set_password(account_id: str, password: str) -> Account:
    """Give an account a new password (its rules checked)."""
    account = get_account(account_id)
    if account.role not in domain.PASSWORD_ROLES:
        raise domain.InvalidAccount("residents log in with a code, not a password", field="password")
    domain.check_password(password, account.login)
    account.password_hash = hash_password(password)
    accounts_store.save(account.id, account.version, to_state(account), [])
    return account


def _failures(login: str) -> LoginFailures | None:
    document = failures_store.get(login)
    return from_state(LoginFailures, document) if document else None


@holding(failures_store, lambda login, _now: login)
def _count_failure(login: str, now: object) -> domain.FailureOutcome:
    stored = _failures(login)
    failures = stored or LoginFailures(id=login)
    outcome = domain.record_failure(failures, now)  # type: ignore[arg-type]
    if stored is None:
        try:
            failures_store.insert(login, to_state(failures), [])
        except AlreadyExists:
            raise ConcurrencyConflict("the counter appeared meanwhile") from None
    else:
        failures_store.save(login, stored.version, to_state(failures), [])
    return outcome


def unlock(login: str) -> None:
    """Forget a login name's wrong passwords (an administrator's unlock, or a correct password)."""
    failures_store.collection.delete_one({"_id": login})


def authenticate(username: str, password: str) -> Account:
    """The account whose name and password these are; `LoginRefused` for anything else."""
    now = utcnow()
    login = domain.normalise_username(username)
    wait = domain.locked_for(_failures(login), now)
    if wait:
        LOGINS.labels("password", "locked").inc()
        raise LoginRefused(retry_after=wait)
    account = find_by_login(login)
    usable = account is not None and account.active and account.password_hash is not None
    stored_hash = account.password_hash if usable and account is not None else _decoy_hash()
    try:
        HASHER.verify(stored_hash or _decoy_hash(), password)
        matched = usable
    except (VerificationError, InvalidHashError):
        matched = False
    if not matched or account is None:
        outcome = _count_failure(login, now)
        if outcome.locked_now:
            LOCKOUTS.inc()
        LOGINS.labels("password", "locked" if outcome.retry_after else "wrong").inc()
        raise LoginRefused(retry_after=outcome.retry_after)
    if _failures(login) is not None:
        unlock(login)
    if HASHER.check_needs_rehash(stored_hash):
        set_password.__wrapped__(account.id, password)  # type: ignore[attr-defined]
    LOGINS.labels("password", "success").inc()
    return account


# --- what the volunteers service announces ----------------------------------------------------------
def on_volunteer(envelope: Envelope, data: contracts.VolunteerSnapshot) -> None:
    """Keep the volunteer's latest profile; a deactivated volunteer's login stops working."""
    known = KnownVolunteerDocument.objects(id=data.volunteer_id).first()
    if known is not None and (known.profile_version or 0) >= data.profile_version:
        return
    KnownVolunteerDocument.objects(id=data.volunteer_id).update_one(
        set__name=data.name,
        set__township=data.township,
        set__active=data.active,
        set__profile_version=data.profile_version,
        upsert=True,
    )
    for account in accounts_store.collection.find({"volunteer_id": data.volunteer_id}, {"_id": 1}):
        current = get_account(account["_id"])
        if current.active != data.active or current.township != data.township:
            change_account(current.id, active=data.active, township=data.township)


def on_team_updated(envelope: Envelope, data: contracts.TeamUpdated) -> None:
    """Keep the team's leader, who answers its offers."""
    known = KnownTeamDocument.objects(id=data.team_id).first()
    if known is not None and (known.profile_version or 0) >= data.profile_version:
        return
    KnownTeamDocument.objects(id=data.team_id).update_one(
        set__leader_id=data.leader_id,
        set__member_ids=list(data.member_ids),
        set__profile_version=data.profile_version,
        upsert=True,
    )


def team_leader(team_id: str) -> str | None:
    """The volunteer id of a team's leader, if one is known."""
    team = KnownTeamDocument.objects(id=team_id).first()
    return team.leader_id if team is not None else None


def all_documents() -> list[type]:
    """Every document kind of this feature (the worker makes their indexes)."""
    return [AccountDocument]
