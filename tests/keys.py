"""Keyrings for tests: made once per test session (RSA key generation takes a moment)."""

from __future__ import annotations

import json
from datetime import timedelta
from functools import cache

from services.common import keyring
from services.common.ids import real_utcnow


@cache
def test_keyring() -> keyring.Keyring:
    """A keyring with one active key."""
    return keyring.rotate(
        keyring.Keyring(), real_utcnow(), lead=timedelta(0), token_lifetime=timedelta(minutes=15)
    )


def keyring_json() -> str:
    """The test keyring as CIVICLOOP_JWT_KEYS holds it."""
    return json.dumps(test_keyring().to_json())
