"""Personal data: fields sealed at rest with rotating keys, and no phone number in full in a log line."""

from __future__ import annotations

import json
import logging

import pytest
import structlog
from cryptography.fernet import Fernet

from services.common import personal
from services.common.ids import utcnow
from services.common.logs import configure_logging, get_logger
from services.common.settings import Settings
from services.requests.orders.domain import ServiceRequest
from services.requests.orders.models import from_document, to_document

PHONE = "13800000001"


def test_a_sealed_value_opens_and_shows_nothing_of_the_plain_one():
    sealer = personal.Sealer([Fernet.generate_key().decode()])
    sealed = sealer.seal(PHONE)
    assert sealed.startswith(personal.PREFIX) and PHONE not in sealed and "0001" not in sealed
    assert sealer.open(sealed) == PHONE
    assert sealer.seal(None) is None and sealer.open(None) is None


def test_values_stored_before_sealing_began_read_as_they_are():
    assert personal.Sealer([personal.DEVELOPMENT_KEY]).open("平湖镇桥头村 12 号") == "平湖镇桥头村 12 号"


def test_keys_rotate_without_downtime_and_a_retired_key_is_refused():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed_by_old = personal.Sealer([old]).seal(PHONE)
    during = personal.Sealer([new, old])  # the new key seals, both open
    assert during.open(sealed_by_old) == PHONE
    resealed = during.seal(during.open(sealed_by_old))
    after = personal.Sealer([new])  # the old key retired once every document was saved again
    assert after.open(resealed) == PHONE
    with pytest.raises(personal.PersonalDataError):
        after.open(sealed_by_old)


def test_only_local_profiles_may_run_on_the_development_key():
    assert personal.keys_of(Settings(service="requests", environment="local")) == [personal.DEVELOPMENT_KEY]
    with pytest.raises(personal.PersonalDataError, match="CIVICLOOP_PERSONAL_DATA_KEYS"):
        personal.require_keys(Settings(service="requests", environment="production"))
    key = Fernet.generate_key().decode()
    assert personal.keys_of(Settings(service="requests", personal_data_keys=f" {key} ,")) == [key]


def test_a_process_without_keys_refuses_to_seal_rather_than_store_in_the_clear():
    personal.configure(Settings(service="dispatch", environment="production"))
    try:
        with pytest.raises(personal.PersonalDataError):
            personal.seal(PHONE)
        assert personal.unseal("plain") == "plain"
    finally:
        personal.configure(Settings(service="requests", environment="local"))


def test_a_request_stores_its_phone_and_address_sealed():
    request = ServiceRequest(
        id="r1",
        code="GT-20261130-0001",
        resident_id="res-1",
        category="repairs",
        title="修门",
        description="门坏了",
        township="平湖镇",
        village="桥头村",
        submitted_at=utcnow(),
        address="桥头村 12 号",
        contact_phone=PHONE,
    )
    stored = to_document(request)
    assert PHONE not in json.dumps(stored, default=str, ensure_ascii=False)
    assert "桥头村 12 号" not in json.dumps(stored, default=str, ensure_ascii=False)
    loaded = from_document({"_id": "r1", **stored})
    assert loaded.contact_phone == PHONE and loaded.address == "桥头村 12 号"


def test_phone_numbers_are_masked_and_other_digits_left_alone():
    text = f"call {PHONE} or +86 13912345678; at 1764470000123, order 202611300001"
    masked = personal.mask_phones(text)
    assert PHONE not in masked and "13912345678" not in masked
    assert "138****0001" in masked and "1764470000123" in masked and "202611300001" in masked


def test_no_log_line_carries_a_phone_number(capsys):
    configure_logging("requests", "web")
    try:
        get_logger("test").info("order.received", contact={"phone": PHONE}, note=f"回电 {PHONE}")
        logging.getLogger("library").warning("login code sent to %s", PHONE)
        try:
            raise ValueError(f"bad phone {PHONE}")
        except ValueError:
            get_logger("test").exception("order.failed")
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers[:] = []
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all(json.loads(line) for line in lines)
    assert all(PHONE not in line for line in lines), lines
    assert all("138****0001" in line for line in lines)
