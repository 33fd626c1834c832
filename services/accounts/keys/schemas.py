"""The JSON Web Key Set, as published."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from services.common.schemas import View


class PublicKey(BaseModel):
    """One RSA public key (RFC 7517): its id, modulus and exponent."""

    model_config = ConfigDict(extra="allow")

    kty: str = Field(description="always RSA")
    kid: str
    use: str = "sig"
    alg: str = "RS256"
    n: str
    e: str


class KeySetView(View):
    """Every key a token may be signed with now: the active one, those retiring, the next one."""

    keys: list[PublicKey]
