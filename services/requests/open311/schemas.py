"""Open311 GeoReport v2's documents as models, the functions that build them, and their two formats.

Every document is answered in JSON or in the spec's XML (xmltodict writes the same dump under the
spec's root and item elements), so each model declares both media types. Refusals keep GeoReport's
own error list, not problem+json: Open311 clients read that one.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import xmltodict
from pydantic import BaseModel, ConfigDict, Field, RootModel

from services.common.county import TOWNSHIPS, Township
from services.common.ids import isoformat
from services.common.schemas import URGENCIES, Urgency, View
from services.requests.catalog.domain import CATEGORIES, Category
from services.requests.open311.domain import (
    CHANGESET,
    FORMATS,
    PUBLIC_SOURCES,
    SPECIFICATION,
    ZIPCODE,
    status_of,
)
from services.requests.orders.domain import ServiceRequest

# Each document also goes out as the spec's XML; its schema is the JSON one's, as elements.
XML_TOO = {"content": {"text/xml": {"schema": {"type": "string", "description": "the same document as XML"}}}}


# --- paths and query ---------------------------------------------------------------------------------
class FormatPath(BaseModel):
    fmt: str = Field(description="json or xml")


class ServicePath(FormatPath):
    service_code: str


class RequestIdPath(FormatPath):
    service_request_id: str = Field(description="a request id or its human code")


class TokenPath(FormatPath):
    token: str


class JurisdictionQuery(BaseModel):
    jurisdiction_id: str | None = Field(None, description="gutian.civicloop, or left out")


class SearchQuery(JurisdictionQuery):
    """GET requests: by ids (which overrides the rest) or by codes, dates (90 days at most) and status."""

    service_request_id: str | None = Field(None, description="comma-separated ids or codes")
    service_code: str | None = Field(None, description="comma-separated service codes")
    start_date: str | None = Field(None, description="W3C date-time with a time zone")
    end_date: str | None = Field(None, description="W3C date-time with a time zone")
    status: str | None = Field(None, description="open, closed, or both separated by a comma")


class PostForm(BaseModel):
    """POST requests, as a form (or JSON): the service, a location, the township and village attributes."""

    api_key: str
    service_code: str
    lat: float | None = None
    long: float | None = None
    address_string: str | None = Field(None, max_length=200)
    address_id: str | None = Field(None, max_length=64)
    township: Township = Field(alias="attribute[township]")
    village: str = Field(alias="attribute[village]", max_length=50)
    urgency: Urgency = Field("normal", alias="attribute[urgency]")
    description: str | None = Field(None, max_length=2000)
    email: str | None = None
    phone: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    media_url: str | None = None
    jurisdiction_id: str | None = None


def post_body() -> dict[str, Any]:
    """The OpenAPI request body of POST requests: GeoReport's form, or the same fields as JSON."""
    schema = PostForm.model_json_schema(by_alias=True)
    return {
        "required": True,
        "content": {
            media: {"schema": schema} for media in ("application/x-www-form-urlencoded", "application/json")
        },
    }


# --- documents ---------------------------------------------------------------------------------------
class Endpoint(View):
    specification: str
    url: str
    changeset: str
    type: str
    formats: list[str]


class Discovery(View):
    """Where the v2 endpoint is and which formats it speaks."""

    model_config = ConfigDict(extra="forbid", openapi_extra=XML_TOO)

    changeset: str
    contact: str
    key_service: str
    endpoints: list[Endpoint]


class Service(View):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


class Services(RootModel[list[Service]]):
    """The catalogue as GeoReport services."""

    model_config = ConfigDict(openapi_extra=XML_TOO)


class AttributeValue(View):
    key: str
    name: str


class TextAttribute(View):
    variable: bool
    code: str
    datatype: str
    required: bool
    datatype_description: str
    order: int
    description: str


class ListAttribute(TextAttribute):
    values: list[AttributeValue]


class ServiceDefinition(View):
    """A service's attributes."""

    model_config = ConfigDict(extra="forbid", openapi_extra=XML_TOO)

    service_code: str
    attributes: list[ListAttribute | TextAttribute]


class ServiceRequestView(View):
    """An order as a GeoReport service request."""

    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str
    service_name: str
    service_code: str
    description: str
    agency_responsible: str
    service_notice: str
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str
    address: str
    address_id: str | None
    zipcode: str
    lat: float | None
    long: float | None
    media_url: str | None


class ServiceRequests(RootModel[list[ServiceRequestView]]):
    """Service requests found, newest first."""

    model_config = ConfigDict(openapi_extra=XML_TOO)


class Received(View):
    service_request_id: str
    token: str
    service_notice: str
    account_id: str | None


class ReceivedRequests(RootModel[list[Received]]):
    """What a POST answers: the new request's id and a token to follow it by."""

    model_config = ConfigDict(openapi_extra=XML_TOO)


class TokenAnswer(View):
    service_request_id: str
    token: str


class TokenAnswers(RootModel[list[TokenAnswer]]):
    """The request a token stands for."""

    model_config = ConfigDict(openapi_extra=XML_TOO)


class GeoReportError(View):
    code: int
    description: str


class GeoReportErrors(RootModel[list[GeoReportError]]):
    """GeoReport's error list."""

    model_config = ConfigDict(openapi_extra=XML_TOO)


def discovery(base_url: str) -> Discovery:
    """The discovery document."""
    return Discovery(
        changeset=CHANGESET,
        contact="古田县新时代文明实践中心 / Gutian County Civilization Practice Centre",
        key_service="Ask the county centre for an api_key to post requests.",
        endpoints=[
            Endpoint(
                specification=SPECIFICATION,
                url=base_url,
                changeset=CHANGESET,
                type="production",
                formats=list(FORMATS.values()),
            )
        ],
    )


def services() -> Services:
    """The catalogue as GeoReport services; every one has attributes (metadata true)."""
    return Services(
        [
            Service(
                service_code=category.code,
                service_name=f"{category.name_zh} {category.name_en}",
                description=f"{category.description_zh} / {category.description_en}".strip(" /"),
                metadata=True,
                type="realtime",
                keywords=", ".join(filter(None, [category.name_en.lower(), *category.skills])),
                group="新时代文明实践 civilization practice",
            )
            for category in CATEGORIES.values()
        ]
    )


def service_definition(category: Category) -> ServiceDefinition:
    """A service's attributes: the township and village it is for are required (the loop needs them)."""
    return ServiceDefinition(
        service_code=category.code,
        attributes=[
            ListAttribute(
                variable=True,
                code="township",
                datatype="singlevaluelist",
                required=True,
                datatype_description="one of the 14 townships of Gutian County",
                order=1,
                description="乡镇（街道） Township",
                values=[AttributeValue(key=name, name=name) for name in TOWNSHIPS],
            ),
            TextAttribute(
                variable=True,
                code="village",
                datatype="string",
                required=True,
                datatype_description="the village or community, up to 50 characters",
                order=2,
                description="村（社区） Village or community",
            ),
            ListAttribute(
                variable=True,
                code="urgency",
                datatype="singlevaluelist",
                required=False,
                datatype_description="how soon it is needed; normal when not given",
                order=3,
                description="紧急程度 Urgency",
                values=[AttributeValue(key=urgency, name=urgency) for urgency in URGENCIES],
            ),
        ],
    )


def request_view(request: ServiceRequest) -> ServiceRequestView:
    """A stored order as a GeoReport service request; private orders show their category, not their text."""
    category = CATEGORIES[request.category]
    status, notes = status_of(request)
    details = request.source_details or {}
    public = request.source in PUBLIC_SOURCES
    media = details.get("media_url") or next(iter(details.get("photo_urls") or []), None)
    updated = max((entry.at for entry in request.timeline), default=request.submitted_at)
    _, complete_by = category.deadlines(request.urgency).due(request.submitted_at)
    return ServiceRequestView(
        service_request_id=request.id,
        status=status,
        status_notes=notes,
        service_name=f"{category.name_zh} {category.name_en}",
        service_code=request.category,
        description=request.description if public else f"{category.name_zh} {category.name_en}",
        agency_responsible=f"{request.township}新时代文明实践所",
        service_notice=f"编号 {request.code}",
        requested_datetime=isoformat(request.submitted_at),
        updated_datetime=isoformat(updated),
        expected_datetime=isoformat(complete_by),
        address=request.address if public and request.address else f"{request.township}{request.village}",
        address_id=None,
        zipcode=ZIPCODE,
        lat=request.latitude,
        long=request.longitude,
        media_url=media if public else None,
    )


def received(order: ServiceRequest, token: str) -> ReceivedRequests:
    """What a POST answers: the order's id, the token, and its human code as the notice."""
    return ReceivedRequests(
        [
            Received(
                service_request_id=order.id,
                token=token,
                service_notice=f"已受理，编号 {order.code} / Received as {order.code}",
                account_id=(order.source_details or {}).get("account_id"),
            )
        ]
    )


def token_answers(order: ServiceRequest, token: str) -> TokenAnswers:
    """The request a token stands for, as a list of one."""
    return TokenAnswers([TokenAnswer(service_request_id=order.id, token=token)])


def errors(status: int, description: str) -> GeoReportErrors:
    """The GeoReport error list of one refusal."""
    return GeoReportErrors([GeoReportError(code=status, description=description)])


# --- the two formats ---------------------------------------------------------------------------------
# The XML root and item element of each list document (GeoReport v2's names).
XML_SHAPES = {
    "services": ("services", "service"),
    "requests": ("service_requests", "request"),
    "errors": ("errors", "error"),
}


def _xml_ready(value: Any) -> Any:
    """Lists inside items become repeated child elements, as the spec's XML shows them."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key == "values" and isinstance(item, list):
                out[key] = {"value": [_xml_ready(v) for v in item]}
            elif key == "attributes" and isinstance(item, list):
                out[key] = {"attribute": [_xml_ready(v) for v in item]}
            elif key == "endpoints" and isinstance(item, list):
                out[key] = {"endpoint": [_xml_ready(v) for v in item]}
            elif key == "formats" and isinstance(item, list):
                out[key] = {"format": item}
            else:
                out[key] = _xml_ready(item)
        return out
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def render(
    document: BaseModel, fmt: str, shape: str | None = None, root: str | None = None
) -> tuple[str, str]:
    """(body, content type): JSON as is; XML under the spec's root and item elements."""
    dumped = document.model_dump(mode="json")
    if fmt == "json":
        return json.dumps(dumped, ensure_ascii=False), "application/json; charset=utf-8"
    if shape is not None:
        root_name, item_name = XML_SHAPES[shape]
        tree = {root_name: {item_name: [_xml_ready(item) for item in dumped]}}
    else:
        tree = {root or "document": _xml_ready(dumped)}
    return xmltodict.unparse(tree, encoding="utf-8"), "text/xml; charset=utf-8"
