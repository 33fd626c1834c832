"""Another service (requests) verifies RS256 tokens through the accounts service's JWKS, over real HTTP,
while the keys rotate: both keys verify during the switch; the retired key's tokens stop verifying."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from werkzeug.serving import make_server

import services.accounts as accounts
import services.requests as requests_service
from services.common import keyring
from services.common.ids import utcnow
from tests.support import integration_settings

pytestmark = pytest.mark.integration
LIFETIME = timedelta(minutes=15)


@pytest.fixture(scope="module")
def keyring_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "jwt-keys.json"
    keyring.write_keyring(
        path, keyring.rotate(keyring.Keyring(), utcnow(), lead=timedelta(0), token_lifetime=LIFETIME)
    )
    return path


@pytest.fixture(scope="module")
def jwks_url(keyring_file: Path) -> Iterator[str]:
    """The accounts web app serving its JWKS on a real port, reading the keyring file."""
    settings = integration_settings("accounts", jwt_keys_file=str(keyring_file))
    server = make_server("127.0.0.1", 0, accounts.create_app(settings), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()


@pytest.fixture(scope="module")
def requests_app(jwks_url: str):
    """The requests service as production runs it: no development secret, only the JWKS."""
    settings = integration_settings(
        "requests",
        environment="production",
        jwt_secret="",
        jwt_jwks_url=jwks_url,
        jwks_cache_seconds=1,
        # Production seals residents' personal fields with keys of its own (docs/adr/0095).
        personal_data_keys=Fernet.generate_key().decode(),
    )
    return requests_service.create_app(settings).test_client()


def token(key: keyring.SigningKey, sub: str = "resident-jwks") -> dict[str, str]:
    claims = {"sub": sub, "role": "resident", "iss": "civicloop", "exp": utcnow() + LIFETIME, "sid": "s"}
    return {"Authorization": f"Bearer {keyring.sign(key, claims)}"}


def test_both_keys_verify_during_a_rotation_and_the_retired_one_stops(keyring_file, requests_app):
    old = keyring.read_keyring(keyring_file).keys[0]
    assert requests_app.get("/api/v1/requests", headers=token(old)).status_code == 200

    # Rotate: the new key signs at once; the old one stays published until its tokens have expired.
    rotated = keyring.rotate(
        keyring.read_keyring(keyring_file), utcnow(), lead=timedelta(0), token_lifetime=LIFETIME
    )
    keyring.write_keyring(keyring_file, rotated)
    new = rotated.keys[-1]
    time.sleep(1.1)  # the accounts service re-reads the changed file within a second
    # An unknown kid makes the verifier fetch the key set again at once.
    assert requests_app.get("/api/v1/requests", headers=token(new)).status_code == 200
    assert requests_app.get("/api/v1/requests", headers=token(old)).status_code == 200

    # The old key is retired (say it leaked): once the verifier's 1-second cache has passed, its
    # tokens are refused even though they have not expired; the new key's still pass.
    keyring.write_keyring(keyring_file, keyring.retire(rotated, old.kid, utcnow()))
    time.sleep(2.2)
    refused = requests_app.get("/api/v1/requests", headers=token(old))
    assert refused.status_code == 401 and "not published" in refused.get_json()["detail"]
    assert requests_app.get("/api/v1/requests", headers=token(new)).status_code == 200


def test_production_verifiers_refuse_the_development_secret(requests_app):
    from tests.support import bearer

    refused = requests_app.get("/api/v1/requests", headers=bearer("resident", "r"))
    assert refused.status_code == 401 and "HS256" in refused.get_json()["detail"]
