"""Schema building blocks shared by the services' HTTP APIs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class StrictBody(BaseModel):
    """A JSON body: unknown fields are refused (a typo must not pass silently), strings trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Problem(BaseModel):
    """RFC 9457 problem details, as every error is answered."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, str]] | None = None


class PageQuery(BaseModel):
    """Newest first; pass the last id of a page as `before` to get the next."""

    limit: int = Field(20, ge=1, le=100)
    before: str | None = Field(None, max_length=64)


ERROR_RESPONSES: dict[int, type[BaseModel]] = {401: Problem, 403: Problem, 404: Problem, 422: Problem}
