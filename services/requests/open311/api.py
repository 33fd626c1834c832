"""Open311 GeoReport v2 endpoints under /open311/v2/: discovery, services, requests, tokens (JSON and XML).

Errors here speak GeoReport's own format (a list of {code, description}), not problem+json,
because Open311 clients read that one.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, g, request
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel

from services.common.ids import utcnow
from services.requests.open311 import domain as open311
from services.requests.open311 import usecases as open311_usecases

open311_api = APIBlueprint(
    "open311",
    __name__,
    url_prefix="/open311/v2",
    abp_tags=[Tag(name="open311", description="Open311 GeoReport v2 (JSON and XML)")],
)


class FormatPath(BaseModel):
    fmt: str


class ServicePath(BaseModel):
    service_code: str
    fmt: str


class RequestIdPath(BaseModel):
    service_request_id: str
    fmt: str


class TokenPath(BaseModel):
    token: str
    fmt: str


def _respond(document: Any, fmt: str, status: int = 200, **shape: str) -> Response:
    body, content_type = open311.render(document, fmt, **shape)
    return Response(body, status=status, content_type=content_type)


def georeport(view: Callable[..., Response]) -> Callable[..., Response]:
    """Check the format and jurisdiction; answer every refusal in GeoReport's error format."""

    @functools.wraps(view)
    def run(path: BaseModel, *args: Any, **kwargs: Any) -> Response:
        fmt = path.fmt.lower()  # type: ignore[attr-defined]
        if fmt not in open311.FORMATS:
            return _respond(open311.error_document(404, "use .json or .xml"), "json", 404, shape="errors")
        try:
            jurisdiction = (request.values.get("jurisdiction_id") or "").strip()
            if jurisdiction and jurisdiction != open311.JURISDICTION:
                raise open311.Open311Error(404, f"jurisdiction_id {jurisdiction!r} not found")
            return view(path, fmt, *args, **kwargs)
        except open311.Open311Error as error:
            return _respond(
                open311.error_document(error.status, error.description), fmt, error.status, shape="errors"
            )

    return run


@open311_api.get("/discovery.<fmt>")
@georeport
def discovery(path: FormatPath, fmt: str) -> Response:
    """Where this endpoint is and what it speaks."""
    # Behind the gateway the caller's host and port arrive as X-Forwarded-Host.
    host = request.headers.get("X-Forwarded-Host") or request.host
    scheme = request.headers.get("X-Forwarded-Proto") or request.scheme
    base = f"{scheme}://{host}/open311/v2"
    return _respond(open311.discovery(base), fmt, root="discovery")


@open311_api.get("/services.<fmt>")
@georeport
def service_list(path: FormatPath, fmt: str) -> Response:
    """The catalogue as GeoReport services."""
    return _respond(open311.services(), fmt, shape="services")


@open311_api.get("/services/<service_code>.<fmt>")
@georeport
def service_definition(path: ServicePath, fmt: str) -> Response:
    """A service's attributes (township, village, urgency)."""
    return _respond(open311.service_definition(path.service_code), fmt, root="service_definition")


@open311_api.post("/requests.<fmt>")
@georeport
def post_service_request(path: FormatPath, fmt: str) -> Response:
    """Post a service request with the county's api_key; it becomes an order of the loop."""
    form: dict[str, Any] = dict(request.form.items())
    if request.is_json:
        form.update(request.get_json(silent=True) or {})
    form.update(
        {key: value for key, value in request.args.items() if key == "api_key" and "api_key" not in form}
    )
    expected = current_app.config["CIVICLOOP_SETTINGS"].open311_api_key
    given = str(form.get("api_key") or "")
    if not given:
        raise open311.Open311Error(403, "api_key is required to post a request")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise open311.Open311Error(403, "api_key is not valid")
    order, token = open311_usecases.post_request(form, causation_id=g.request_id)
    answer = [
        {
            "service_request_id": order.id,
            "token": token,
            "service_notice": f"已受理，编号 {order.code} / Received as {order.code}",
            "account_id": (order.source_details or {}).get("account_id"),
        }
    ]
    return _respond(answer, fmt, 201, shape="requests")


@open311_api.get("/requests.<fmt>")
@georeport
def service_requests(path: FormatPath, fmt: str) -> Response:
    """Requests by id list, or by service code, date range (90 days at most) and open/closed."""
    search = open311.parse_search(dict(request.args.items()), utcnow())
    found = open311_usecases.find_requests(search)
    return _respond([open311.request_view(item) for item in found], fmt, shape="requests")


@open311_api.get("/requests/<service_request_id>.<fmt>")
@georeport
def service_request(path: RequestIdPath, fmt: str) -> Response:
    """One request (by id or human code), as a list of one."""
    found = open311_usecases.find_requests(open311.Search(ids=(path.service_request_id,)))
    if not found:
        raise open311.Open311Error(404, f"service_request_id {path.service_request_id!r} not found")
    return _respond([open311.request_view(found[0])], fmt, shape="requests")


@open311_api.get("/tokens/<token>.<fmt>")
@georeport
def token(path: TokenPath, fmt: str) -> Response:
    """The request a POST's token stands for."""
    found = open311_usecases.find_by_token(path.token)
    if found is None:
        raise open311.Open311Error(404, f"token {path.token!r} not found")
    return _respond([{"service_request_id": found.id, "token": path.token}], fmt, shape="requests")
