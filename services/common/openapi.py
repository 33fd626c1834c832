"""The OpenAPI document as the one contract of a service's answers, errors included, and its check.

Every operation's document lists the problems it can answer (RFC 9457, `application/problem+json`).
With `check_responses` on (the test profiles), every answer the app gives is checked against the
document: a status the operation does not declare, or a body its schema refuses, becomes a 500 that
names the mismatch, so any test that meets it fails.
"""

from __future__ import annotations

import json
import re
from functools import cached_property
from typing import Any

from flask import Response, request
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from services.common.errors import PROBLEM_JSON, problem_response
from services.common.logs import get_logger

log = get_logger(__name__)

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
VALIDATION_ERROR_REF = {
    "type": "array",
    "items": {"$ref": "#/components/schemas/ValidationErrorModel"},
}
PROBLEM_DESCRIPTIONS = {
    400: "The body is not JSON, or not a JSON object",
    401: "No valid bearer token",
    403: "The caller's role or township may not do this",
    404: "Nothing with that id the caller may see",
    408: "The request was not sent in time (the gateway)",
    409: "The thing is not in a state that allows this",
    413: "The body is larger than 1 MB (the gateway)",
    414: "The request line is longer than 8 KB (the gateway)",
    422: "A field is invalid; `errors` names each one",
    429: "Too many requests from this address or token; see Retry-After (the gateway)",
    500: "An unexpected error, logged with the request id",
    503: "The database or broker is away; says whether the write may have landed",
}
# Every operation can meet these: a broken body, an unexpected error, a dependency away, and the
# gateway's own refusals (deploy/gateway: too slow, too large, too long, too many), since the
# document describes the API as callers reach it, through the gateway.
ALWAYS = (400, 408, 413, 414, 429, 500, 503)
WITH_SECURITY = (401, 403)
WITH_PATH_PARAMETERS = (404,)
WITH_INPUT = (422,)


def _problem(status: int) -> dict[str, Any]:
    return {
        "description": PROBLEM_DESCRIPTIONS.get(status, "A problem"),
        "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
    }


def document_problems(document: dict[str, Any]) -> None:
    """Add the problems each operation can answer to its responses, as `application/problem+json`."""
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            statuses = set(ALWAYS)
            if operation.get("security") or document.get("security"):
                statuses.update(WITH_SECURITY)
            parameters = operation.get("parameters", [])
            if "{" in path:
                statuses.update(WITH_PATH_PARAMETERS)
            if operation.get("requestBody") or any(p.get("in") in ("query", "header") for p in parameters):
                statuses.update(WITH_INPUT)
            for status, answer in list(responses.items()):
                # Problems a route declared itself (a 409, say) move to the problem media type, and
                # flask-openapi3's own 422 model gives way to the problem the app really answers with.
                content = answer.get("content", {}) if isinstance(answer, dict) else {}
                schema = content.get("application/json", {}).get("schema")
                if schema == PROBLEM_REF or (status == "422" and schema == VALIDATION_ERROR_REF):
                    responses[status] = _problem(int(status))
            for status in statuses:
                responses.setdefault(str(status), _problem(status))
            operation["responses"] = dict(sorted(responses.items()))
            del method


_RULE_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def openapi_path(rule: str) -> str:
    """`/api/v1/requests/<request_id>` → `/api/v1/requests/{request_id}`."""
    return _RULE_VARIABLE.sub(r"{\1}", rule)


class ResponseContract:
    """Checks each answer of an app against its OpenAPI document."""

    def __init__(self, document_source: Any) -> None:
        # The document is built lazily by flask-openapi3, after every blueprint is registered.
        self._document_source = document_source

    @cached_property
    def document(self) -> dict[str, Any]:
        """The service's OpenAPI document, as published."""
        return json.loads(json.dumps(self._document_source(), default=str))

    @cached_property
    def _registry(self) -> Registry:
        resource = Resource.from_contents(self.document, default_specification=DRAFT202012)
        return Registry().with_resource("urn:civicloop:openapi", resource)

    def mismatch(self, rule: str, method: str, status: int, content_type: str, body: bytes) -> str | None:
        """Why this answer breaks the document, or None when it keeps it."""
        operation = self.document.get("paths", {}).get(openapi_path(rule), {}).get(method.lower())
        if operation is None:
            return f"{method} {rule} is not in the OpenAPI document"
        declared = operation.get("responses", {})
        answer = declared.get(str(status)) or declared.get("default")
        if answer is None:
            return f"{method} {rule} answered {status}, which it does not declare ({', '.join(declared)})"
        media = content_type.split(";", 1)[0].strip()
        content = answer.get("content") or {}
        if not content:
            return None if not body else f"{status} declares no body, but one was sent"
        if media not in content:
            return f"{status} declares {', '.join(content)}, but {media or 'nothing'} was sent"
        schema = content[media].get("schema")
        if schema is None or not media.endswith("json"):
            return None
        try:
            instance = json.loads(body)
        except ValueError:
            return f"{status} body is not JSON"
        validator = Draft202012Validator(
            {"$ref": "urn:civicloop:openapi#" + schema["$ref"][1:]} if "$ref" in schema else schema,
            registry=self._registry,
        )
        try:
            validator.validate(instance)
        except SchemaError as error:
            where = "/".join(str(part) for part in error.absolute_path) or "(the body)"
            return f"{status} body breaks its schema at {where}: {error.message[:300]}"
        return None

    def check(self, response: Response) -> Response:
        """The response, or a 500 naming how it breaks the document."""
        if request.url_rule is None:
            return response
        if response.direct_passthrough or response.is_streamed:
            return response
        problem = self.mismatch(
            request.url_rule.rule,
            request.method,
            response.status_code,
            response.content_type or "",
            response.get_data(),
        )
        if problem is None:
            return response
        log.error("http.response_breaks_contract", problem=problem)
        body = {
            "type": "about:blank",
            "title": "Response breaks the OpenAPI document",
            "status": 500,
            "detail": problem,
        }
        return problem_response(body, 500)
