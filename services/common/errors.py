"""RFC 9457 problem details: every error a client sees is one of these."""

from __future__ import annotations

import json
from typing import Any

from flask import Response
from pydantic import ValidationError

PROBLEM_BASE = "https://civicloop.example/problems/"
PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """An error the client can act on; rendered as application/problem+json."""

    status = 400
    slug = "bad-request"
    title = "Bad Request"

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        slug: str | None = None,
        title: str | None = None,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status or self.status
        self.slug = slug or self.slug
        self.title = title or self.title
        self.headers = headers or {}
        self.extensions = extensions
        if field is not None:
            self.extensions.setdefault("errors", [{"field": field, "detail": detail}])

    def body(self, instance: str | None = None) -> dict[str, Any]:
        """The problem document."""
        document: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            document["instance"] = instance
        document.update(self.extensions)
        return document

    def response(self, instance: str | None = None) -> Response:
        """A Flask response carrying this problem."""
        return problem_response(self.body(instance), self.status, self.headers)


class InvalidInput(Problem):
    status = 422
    slug = "invalid-input"
    title = "Invalid input"


class Unauthorized(Problem):
    status = 401
    slug = "unauthorized"
    title = "Unauthorized"

    def __init__(self, detail: str = "a valid bearer token is required", **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="civicloop"'})
        super().__init__(detail, **kwargs)


class Forbidden(Problem):
    status = 403
    slug = "forbidden"
    title = "Forbidden"


class NotFound(Problem):
    status = 404
    slug = "not-found"
    title = "Not Found"


class Conflict(Problem):
    status = 409
    slug = "conflict"
    title = "Conflict"


class ServiceUnavailable(Problem):
    status = 503
    slug = "service-unavailable"
    title = "Service Unavailable"

    def __init__(self, detail: str, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": "5"})
        super().__init__(detail, **kwargs)


def problem_response(body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Response:
    """Serialise a problem document."""
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def field_path(location: tuple[int | str, ...]) -> str:
    """`('window', 'start')` → `window.start`; list positions as `items[2]`."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path


def validation_problem(error: ValidationError) -> InvalidInput:
    """One problem naming every field that failed, in the order pydantic found them."""
    errors = []
    for item in error.errors(include_url=False, include_context=False, include_input=False):
        location = tuple(part for part in item["loc"] if part not in ("body", "query", "path", "header"))
        field = field_path(location) or "body"
        message = item["msg"]
        if item["type"] in ("model_type", "dict_type") and field == "body":
            message = "the body must be a JSON object"
        errors.append({"field": field, "detail": message})
    summary = "; ".join(f"{e['field']}: {e['detail']}" for e in errors[:5])
    return InvalidInput(summary, errors=errors)
