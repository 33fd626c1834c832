"""Schema building blocks shared by the services' HTTP APIs."""

from __future__ import annotations

import copy
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator


def _refuse_nul(value: object) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain the NUL character (\\u0000)")
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_nul(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(key)
            _refuse_nul(item)


class HeaderModel(BaseModel):
    """A model of request headers whose JSON schema is computed once per process."""

    # flask-openapi3 asks a header model for its whole JSON schema on every request it validates;
    # building it took ~8 ms a POST on this machine (bench/write_path_bench.py, docs/adr/0062).
    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The model's JSON schema (a copy of the one computed first)."""
        key = (cls, args, tuple(sorted(kwargs.items())))
        if key not in _HEADER_SCHEMAS:
            _HEADER_SCHEMAS[key] = super().model_json_schema(*args, **kwargs)
        return copy.deepcopy(_HEADER_SCHEMAS[key])


_HEADER_SCHEMAS: dict[tuple[Any, ...], dict[str, Any]] = {}


class StrictBody(BaseModel):
    """A JSON body: unknown fields refused (a typo must not pass silently), types strict, strings trimmed.

    Strict means a JSON `true`, `"5"` or `5.0` is not the integer 5 (services/common/bodies.py
    validates from the raw JSON, where ISO dates and enum values still parse), and no string may
    hold a NUL character, which the database refuses and no person types.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)

    # After, not before: a before-validator would make pydantic validate the field in Python mode,
    # where a strict datetime refuses its ISO string.
    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value: object) -> object:
        _refuse_nul(value)
        return value


def refuse_null(*names: str) -> Any:
    """A validator for a PATCH body: these fields may be left out (no change), never set to null.

    Each names a value the record must have (a name, a township, a list); a null would be a hole the
    rules never allow, so it is refused naming the field, like any other bad value.
    """

    def check(cls: type, value: object) -> object:
        if value is None:
            raise ValueError("must not be null: leave the field out to keep its value")
        return value

    return field_validator(*names, mode="before")(check)


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
