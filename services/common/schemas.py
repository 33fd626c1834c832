"""Schema building blocks shared by the services' HTTP APIs."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field


class StrictBody(BaseModel):
    """A JSON body: unknown fields are refused (a typo must not pass silently), strings trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class View(BaseModel):
    """A response body: exactly the fields its model declares; an extra field breaks the contract."""

    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    """RFC 9457 problem details, as every error is answered."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, str]] | None = None


# How urgent an order is; the catalogue's deadlines and dispatch's offer windows are set per urgency.
Urgency = Literal["low", "normal", "high", "urgent"]
URGENCIES: tuple[str, ...] = get_args(Urgency)
# A phone number as people type it: digits, an optional leading +, spaces and dashes.
Phone = Annotated[str, Field(pattern=r"^\+?[0-9][0-9 -]{4,19}$", max_length=20)]


ERROR_RESPONSES: dict[int, type[BaseModel]] = {401: Problem, 403: Problem, 404: Problem, 422: Problem}
