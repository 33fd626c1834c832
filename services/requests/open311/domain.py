"""Rules of Open311 GeoReport v2, the requests stage's public face: searches, posts, public status.

Pure: no I/O. It reads the standard parameters into a submission or a search, and says what
the public may see of an order; every refusal is an `Open311Error` in GeoReport's own format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError

from services.common.county import TOWNSHIPS
from services.common.schemas import URGENCIES, Phone
from services.requests.catalog.domain import CATEGORIES, Category
from services.requests.orders.domain import STATUS_TEXT, ServiceRequest, Status, Submission

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
JURISDICTION = "gutian.civicloop"
CHANGESET = "2026-11-29T00:00:00Z"
FORMATS = {"json": "application/json", "xml": "text/xml"}
OPEN = frozenset(
    {
        Status.SUBMITTED,
        Status.IN_REVIEW,
        Status.DISPATCHED,
        Status.ESCALATED,
        Status.ACCEPTED,
        Status.IN_SERVICE,
    }
)
# Search window the spec suggests: 90 days when none is given, and never a longer one.
MAX_SPAN = timedelta(days=90)
MAX_RESULTS = 1000
ZIPCODE = "352200"
# Descriptions that residents typed are private; these sources file public problems, shown in full.
PUBLIC_SOURCES = frozenset({"open311", "patrol"})
# The resident's wording ("waiting for your rating") does not suit a public tracker.
PUBLIC_STATUS_TEXT = {Status.COMPLETED: ("服务已完成", "Service completed")}
ATTRIBUTE_KEY = re.compile(r"^attribute\[([A-Za-z0-9_]+)\]$")
PHONE = TypeAdapter(Phone)


class Open311Error(Exception):
    """An error answered in the GeoReport error format, with its HTTP status."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


# --- rules ---------------------------------------------------------------------------------------------
def category(service_code: str) -> Category:
    """The catalogue's category a service code names; a 404 in GeoReport's format when none."""
    if service_code not in CATEGORIES:
        raise Open311Error(404, f"service_code {service_code!r} not found")
    return CATEGORIES[service_code]


def status_of(request: ServiceRequest) -> tuple[str, str]:
    """("open" | "closed", notes in English and Chinese) for a request's status."""
    status = request.status
    zh, en = PUBLIC_STATUS_TEXT.get(status) or STATUS_TEXT[status]
    notes = f"{en} / {zh}"
    reason = next(
        (entry.note for entry in reversed(request.timeline) if entry.status == status and entry.note), None
    )
    if reason and status in (Status.CANCELLED, Status.REJECTED):
        notes += f": {reason}"
    return ("open" if status in OPEN else "closed"), notes


# --- input ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Search:
    """GET requests: by ids (which overrides the rest) or by codes, dates and open/closed."""

    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] = ()


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def parse_w3c(value: str, name: str) -> datetime:
    """A W3C date-time (2026-11-29T08:00:00Z or with an offset); a time zone is required."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name} must be a W3C date-time such as 2026-11-29T08:00:00Z") from None
    if moment.tzinfo is None:
        raise Open311Error(400, f"{name} needs a time zone (Z or +08:00)")
    return moment


def parse_search(args: dict[str, str], now: datetime) -> Search:
    """The standard GET requests filters, checked."""
    ids = _list(args.get("service_request_id"))
    if ids:
        return Search(ids=ids[:MAX_RESULTS])
    codes = _list(args.get("service_code"))
    unknown = [code for code in codes if code not in CATEGORIES]
    if unknown:
        raise Open311Error(400, f"service_code {unknown[0]!r} not found")
    states = tuple(state.lower() for state in _list(args.get("status")))
    if any(state not in ("open", "closed") for state in states):
        raise Open311Error(400, "status must be open, closed, or both separated by a comma")
    start = parse_w3c(args["start_date"], "start_date") if args.get("start_date") else None
    end = parse_w3c(args["end_date"], "end_date") if args.get("end_date") else None
    if start and end and end < start:
        raise Open311Error(400, "end_date must not be before start_date")
    if start and end and end - start > MAX_SPAN:
        raise Open311Error(400, "start_date and end_date may not span more than 90 days")
    if start is None and end is None:
        start, end = now - MAX_SPAN, now
    elif start is None:
        start = end - MAX_SPAN  # type: ignore[operator]
    elif end is None:
        end = start + MAX_SPAN
    statuses = tuple(
        status.value for status in Status if not states or ("open" if status in OPEN else "closed") in states
    )
    return Search(service_codes=codes, start=start, end=end, statuses=statuses)


@dataclass(frozen=True)
class Posted:
    """A POST requests call, read: the submission and the token the caller can follow it by."""

    submission: Submission
    token: str


def attributes_of(form: dict[str, Any]) -> dict[str, str]:
    """`attribute[township]=…` form fields (or a JSON `attribute` object) as a dict."""
    found: dict[str, str] = {}
    nested = form.get("attribute")
    if isinstance(nested, dict):
        found.update({str(key): str(value) for key, value in nested.items()})
    for key, value in form.items():
        match = ATTRIBUTE_KEY.match(key)
        if match:
            found[match.group(1)] = str(value)
    return found


def _float(form: dict[str, Any], name: str, low: float, high: float) -> float | None:
    raw = form.get(name)
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise Open311Error(400, f"{name} must be a number") from None
    if not low <= value <= high:
        raise Open311Error(400, f"{name} must be between {low:g} and {high:g}")
    return value


def _text(form: dict[str, Any], name: str, limit: int) -> str | None:
    value = form.get(name)
    if value in (None, ""):
        return None
    value = str(value).strip()
    if len(value) > limit:
        raise Open311Error(400, f"{name} may be at most {limit} characters")
    return value or None


def _is_phone(text: str) -> bool:
    try:
        PHONE.validate_python(text)
    except ValidationError:
        return False
    return True


def parse_post(form: dict[str, Any], token: str) -> Posted:
    """A POST requests call as a submission; every missing or bad field is a 400 naming it."""
    service_code = _text(form, "service_code", 64)
    if not service_code:
        raise Open311Error(400, "service_code is required")
    if service_code not in CATEGORIES:
        raise Open311Error(400, f"service_code {service_code!r} not found")
    latitude = _float(form, "lat", -90, 90)
    longitude = _float(form, "long", -180, 180)
    if (latitude is None) != (longitude is None):
        raise Open311Error(400, "lat and long go together")
    address = _text(form, "address_string", 200)
    address_id = _text(form, "address_id", 64)
    if latitude is None and not address and not address_id:
        raise Open311Error(400, "a location is required: lat and long, address_string or address_id")
    attributes = attributes_of(form)
    township = attributes.get("township", "").strip()
    if township not in TOWNSHIPS:
        raise Open311Error(
            400, "attribute[township] is required and must be one of the county's 14 townships"
        )
    village = attributes.get("village", "").strip()
    if not village or len(village) > 50:
        raise Open311Error(400, "attribute[village] is required (1 to 50 characters)")
    urgency = attributes.get("urgency", "normal").strip() or "normal"
    if urgency not in URGENCIES:
        raise Open311Error(400, f"attribute[urgency] must be one of {', '.join(URGENCIES)}")
    description = _text(form, "description", 2000)
    phone = _text(form, "phone", 20)
    if phone and not _is_phone(phone):
        raise Open311Error(400, "phone is not a phone number")
    email = _text(form, "email", 254)
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise Open311Error(400, "email is not an e-mail address")
    media_url = _text(form, "media_url", 500)
    if media_url and not re.match(r"^https?://[^\s/]+", media_url):
        raise Open311Error(400, "media_url must be an http(s) URL")
    account_id = _text(form, "account_id", 64)
    device_id = _text(form, "device_id", 64)
    category = CATEGORIES[service_code]
    caller = (email or "").lower() or account_id or device_id or phone or "anonymous"
    title = (description or category.name_zh)[:30]
    details = {
        "first_name": _text(form, "first_name", 50),
        "last_name": _text(form, "last_name", 50),
        "email": email,
        "account_id": account_id,
        "device_id": device_id,
        "address_id": address_id,
        "media_url": media_url,
        "attributes": attributes,
    }
    submission = Submission(
        resident_id=f"open311:{caller}",
        category=service_code,
        title=title,
        description=description or f"{category.name_zh}（Open311）",
        township=township,
        village=village,
        address=address,
        urgency=urgency,
        contact_phone=phone,
        source="open311",
        source_ref=token,
        latitude=latitude,
        longitude=longitude,
        source_details={key: value for key, value in details.items() if value},
    )
    return Posted(submission, token)
