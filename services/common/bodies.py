"""How JSON request bodies become models: from the raw text, in strict JSON mode.

flask-openapi3 validates a body from `request.get_json()` in pydantic's Python mode, which coerces
`true` and `"5"` to 1 and 5, and Python's parser overflows the stack on a thousand nested brackets.
Here the raw text goes to pydantic's own JSON parser (depth-limited), and the models are strict:
a JSON number stays a number, a string stays a string, and ISO dates and enum values still parse.
"""

from __future__ import annotations

import flask_openapi3.request
from flask import request
from pydantic import BaseModel, ValidationError

from services.common.errors import Problem

JSON_MEDIA_TYPES = ("application/json", "application/problem+json", "application/merge-patch+json")


class NotJSON(Problem):
    status = 400
    slug = "not-json"
    title = "The body is not valid JSON"


class NotJSONMediaType(Problem):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported Media Type"


def validate_json_body(body: type[BaseModel], func_kwargs: dict) -> None:
    """Validate the request's body against `body` from its raw JSON text; put the model in `func_kwargs`."""
    raw = request.get_data(cache=True)
    if raw.strip():
        media_type = (request.mimetype or "").lower()
        if media_type not in JSON_MEDIA_TYPES:
            raise NotJSONMediaType(
                f"send the body as application/json, not {media_type or 'without a Content-Type'}",
                field="body",
            )
    else:
        # No body at all: the model says what is missing (each required field named), or that none is.
        raw = b"{}"
    try:
        func_kwargs["body"] = body.model_validate_json(raw)
    except ValidationError as error:
        unparsable = [item for item in error.errors() if item["type"] == "json_invalid"]
        if unparsable:
            raise NotJSON(
                f"{unparsable[0]['msg']} (nesting is limited to 200 levels)", field="body"
            ) from None
        raise


def install() -> None:
    """Make flask-openapi3 validate every declared body this way (once per process)."""
    flask_openapi3.request._validate_body = validate_json_body
