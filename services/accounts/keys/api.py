"""HTTP entrypoint of the keys: the JWKS every service (and anyone) verifies access tokens with."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from services.accounts.keys.schemas import KeySetView, PublicKey
from services.accounts.keys.usecases import current_keyring
from services.common.ids import real_utcnow

keys_api = APIBlueprint("keys", __name__, abp_tags=[Tag(name="auth", description="登录与令牌")])


@keys_api.get("/.well-known/jwks.json", responses={200: KeySetView})
def jwks() -> KeySetView:
    """The public signing keys (RFC 7517), the next one included before it signs anything."""
    document = current_keyring().jwks(real_utcnow())
    return KeySetView(keys=[PublicKey(**key) for key in document["keys"]])
