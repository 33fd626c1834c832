"""Schema pieces every feature of the requests stage shares: bilingual text, the Idempotency-Key header."""

from __future__ import annotations

from pydantic import Field

from services.common.schemas import HeaderModel, View


class Bilingual(View):
    """A text in Chinese and English."""

    zh: str
    en: str


def bilingual(texts: tuple[str, str]) -> Bilingual:
    """`("已提交", "Submitted")` as a bilingual text."""
    zh, en = texts
    return Bilingual(zh=zh, en=en)


class IdempotencyHeader(HeaderModel):
    """The header that makes a POST safe to repeat."""

    idempotency_key: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="repeat a POST safely: same key and body, same request; same key, other body: 422",
    )
