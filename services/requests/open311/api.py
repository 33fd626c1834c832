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
from services.common.schemas import Problem
from services.requests.open311 import domain, schemas, usecases
from services.requests.open311.schemas import (
    Discovery,
    FormatPath,
    GeoReportErrors,
    JurisdictionQuery,
    ReceivedRequests,
    RequestIdPath,
    SearchQuery,
    ServiceDefinition,
    ServicePath,
    ServiceRequests,
    Services,
    TokenAnswers,
    TokenPath,
)

open311_api = APIBlueprint(
    "open311",
    __name__,
    url_prefix="/open311/v2",
    abp_tags=[Tag(name="open311", description="Open311 GeoReport v2 (JSON and XML)")],
    # flask-openapi3 lists a 422 on every operation; should a path ever fail, it is problem+json.
    abp_responses={422: Problem},
)
# Every GeoReport operation answers an unknown format, jurisdiction or id with GeoReport's 404.
NOT_FOUND = {404: GeoReportErrors}


def _respond(document: BaseModel, fmt: str, status: int = 200, **shape: str) -> Response:
    body, content_type = schemas.render(document, fmt, **shape)
    return Response(body, status=status, content_type=content_type)


def georeport(view: Callable[..., Response]) -> Callable[..., Response]:
    """Check the format and jurisdiction; answer every refusal in GeoReport's error format."""

    @functools.wraps(view)
    def run(path: FormatPath, *args: Any, **kwargs: Any) -> Response:
        fmt = path.fmt.lower()
        if fmt not in domain.FORMATS:
            return _respond(schemas.errors(404, "use .json or .xml"), "json", 404, shape="errors")
        try:
            jurisdiction = (request.values.get("jurisdiction_id") or "").strip()
            if jurisdiction and jurisdiction != domain.JURISDICTION:
                raise domain.Open311Error(404, f"jurisdiction_id {jurisdiction!r} not found")
            return view(path, fmt, *args, **kwargs)
        except domain.Open311Error as error:
            return _respond(
                schemas.errors(error.status, error.description), fmt, error.status, shape="errors"
            )

    return run


@open311_api.get("/discovery.<fmt>", responses={200: Discovery, **NOT_FOUND})
@georeport
def discovery(path: FormatPath, fmt: str, query: JurisdictionQuery) -> Response:
    """Where this endpoint is and what it speaks."""
    # Behind the gateway the caller's host and port arrive as X-Forwarded-Host.
    host = request.headers.get("X-Forwarded-Host") or request.host
    scheme = request.headers.get("X-Forwarded-Proto") or request.scheme
    return _respond(schemas.discovery(f"{scheme}://{host}/open311/v2"), fmt, root="discovery")


@open311_api.get("/services.<fmt>", responses={200: Services, **NOT_FOUND})
@georeport
def service_list(path: FormatPath, fmt: str, query: JurisdictionQuery) -> Response:
    """The catalogue as GeoReport services."""
    return _respond(schemas.services(), fmt, shape="services")


@open311_api.get("/services/<service_code>.<fmt>", responses={200: ServiceDefinition, **NOT_FOUND})
@georeport
def service_definition(path: ServicePath, fmt: str, query: JurisdictionQuery) -> Response:
    """A service's attributes (township, village, urgency)."""
    definition = schemas.service_definition(domain.category(path.service_code))
    return _respond(definition, fmt, root="service_definition")


@open311_api.post(
    "/requests.<fmt>",
    responses={201: ReceivedRequests, 400: GeoReportErrors, 403: GeoReportErrors, **NOT_FOUND},
    openapi_extensions={"requestBody": schemas.post_body()},
)
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
        raise domain.Open311Error(403, "api_key is required to post a request")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise domain.Open311Error(403, "api_key is not valid")
    order, token = usecases.post_request(form, causation_id=g.request_id)
    return _respond(schemas.received(order, token), fmt, 201, shape="requests")


@open311_api.get("/requests.<fmt>", responses={200: ServiceRequests, 400: GeoReportErrors, **NOT_FOUND})
@georeport
def service_requests(path: FormatPath, fmt: str, query: SearchQuery) -> Response:
    """Requests by id list, or by service code, date range (90 days at most) and open/closed."""
    search = domain.parse_search(query.model_dump(exclude_none=True), utcnow())
    found = usecases.find_requests(search)
    return _respond(ServiceRequests([schemas.request_view(item) for item in found]), fmt, shape="requests")


@open311_api.get("/requests/<service_request_id>.<fmt>", responses={200: ServiceRequests, **NOT_FOUND})
@georeport
def service_request(path: RequestIdPath, fmt: str, query: JurisdictionQuery) -> Response:
    """One request (by id or human code), as a list of one."""
    found = usecases.find_requests(domain.Search(ids=(path.service_request_id,)))
    if not found:
        raise domain.Open311Error(404, f"service_request_id {path.service_request_id!r} not found")
    return _respond(ServiceRequests([schemas.request_view(found[0])]), fmt, shape="requests")


@open311_api.get("/tokens/<token>.<fmt>", responses={200: TokenAnswers, **NOT_FOUND})
@georeport
def token(path: TokenPath, fmt: str, query: JurisdictionQuery) -> Response:
    """The request a POST's token stands for."""
    found = usecases.find_by_token(path.token)
    if found is None:
        raise domain.Open311Error(404, f"token {path.token!r} not found")
    return _respond(schemas.token_answers(found, path.token), fmt, shape="requests")
