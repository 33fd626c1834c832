"""Use cases of login codes: send one to a phone (through the notifier), log in with it."""

from __future__ import annotations

from services.accounts.codes import domain
from services.accounts.codes.domain import CodeRefused, LoginCode
from services.accounts.codes.models import codes_store
from services.accounts.metrics import CODES, LOGINS
from services.accounts.people import usecases as people
from services.accounts.people.domain import Account
from services.common.ids import as_utc, utcnow
from services.common.store import AlreadyExists, ConcurrencyConflict, from_state, holding, to_state


def _load(phone: str) -> LoginCode | None:
    document = codes_store.get(phone)
    if document is None:
        return None
    code = from_state(LoginCode, document)
    code.sent_at = [as_utc(moment) for moment in code.sent_at]
    return code


@holding(codes_store, lambda phone: phone)
def send_code(phone: str) -> LoginCode:
    """A new code for the phone, waiting for the notifier; `TooSoon` past the limits."""
    stored = _load(phone)
    state = stored or LoginCode(id=phone)
    try:
        domain.issue(state, domain.new_code(), utcnow())
    except domain.TooSoon:
        CODES.labels("rate_limited").inc()
        raise
    if stored is None:
        try:
            codes_store.insert(phone, to_state(state), [])
        except AlreadyExists:
            raise ConcurrencyConflict("the phone's code appeared meanwhile") from None
    else:
        codes_store.save(phone, stored.version, to_state(state), [])
    CODES.labels("issued").inc()
    return state


@holding(codes_store, lambda phone, _code: phone)
def _use_code(phone: str, code: str) -> None:
    state = _load(phone)
    try:
        domain.check(state, code, utcnow())
    finally:
        if state is not None:
            codes_store.save(phone, state.version, to_state(state), [])


def log_in_with_code(phone: str, code: str) -> Account:
    """The resident of this phone (made on the first verified code); `CodeRefused` otherwise."""
    try:
        _use_code(phone, code)
    except CodeRefused:
        LOGINS.labels("code", "wrong").inc()
        raise
    LOGINS.labels("code", "success").inc()
    return people.resident_by_phone(phone)


def codes_to_deliver(limit: int = 50) -> list[str]:
    """Phones whose new code the notifier has not taken yet."""
    found = codes_store.collection.find({"delivery_pending": True}, {"_id": 1}).limit(limit)
    return [item["_id"] for item in found]


@holding(codes_store, lambda phone: phone)
def take_code(phone: str) -> str | None:
    """Hand the code to the notifier exactly once: after this only its hash is kept."""
    state = _load(phone)
    if state is None or not state.delivery_pending:
        return None
    code = state.undelivered_code
    state.undelivered_code, state.delivery_pending = None, False
    codes_store.save(phone, state.version, to_state(state), [])
    # An expired code is not worth a message.
    if state.expires_at is None or as_utc(state.expires_at) <= utcnow():
        return None
    return code
