"""Idempotency-Key: a repeated POST answers with what the first one made, but only for the same body.

The IETF Idempotency-Key draft: a key reused with a different payload is the client's mistake and is
answered 422, never with the first resource (that would silently drop the second order). A store
keeps the body's fingerprint beside the key's scope and compares it on every repeat.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel

from services.common.domain import DomainError

HEADER = "Idempotency-Key"


class IdempotencyKeyReused(DomainError):
    """The key came before with another body; the first request stands, this one is refused."""

    def __init__(self) -> None:
        super().__init__(
            "this Idempotency-Key was used before with a different body; use a new key for a new request",
            field=HEADER,
        )


def fingerprint(body: BaseModel | dict[str, Any]) -> str:
    """A digest of the body's content: the same fields and values give the same print, in any order."""
    content = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def check_same_body(stored: str | None, presented: str | None) -> None:
    """Refuse a repeat whose body differs from the first (records stored before prints pass)."""
    if stored and presented and stored != presented:
        raise IdempotencyKeyReused()
