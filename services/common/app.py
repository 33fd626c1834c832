"""The app factory every service's web process uses: errors, request ids, logs, health, metrics."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import datetime
from typing import Any

from flask import Response, g, request
from flask.json.provider import DefaultJSONProvider
from flask_openapi3 import APIBlueprint, Info, OpenAPI
from pydantic import BaseModel, ValidationError
from pymongo.errors import OperationFailure, PyMongoError, ServerSelectionTimeoutError
from werkzeug.exceptions import HTTPException

from services.common import auth, bodies, db, deadlines, domain, locks, personal
from services.common.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Problem,
    ServiceUnavailable,
    problem_response,
    validation_problem,
)
from services.common.ids import isoformat, new_id
from services.common.logs import bind_context, clear_context, configure_logging, get_logger
from services.common.metrics import DEPENDENCY_UP, HTTP_LATENCY, HTTP_REQUESTS, render_latest
from services.common.openapi import ResponseContract, document_problems
from services.common.publisher import connect_any
from services.common.settings import Settings

log = get_logger(__name__)


class JSONProvider(DefaultJSONProvider):
    """JSON with ISO 8601 UTC times (Flask's default writes HTTP dates) and unescaped Chinese."""

    ensure_ascii = False
    sort_keys = False

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, datetime):
            return isoformat(o)
        return DefaultJSONProvider.default(o)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            # A thousand nested brackets: not JSON anyone sends; a parse error, never a 500.
            raise ValueError("the JSON is nested too deeply") from None


class ServiceApp(OpenAPI):
    """flask-openapi3's app, whose document lists every problem, and whose views may return models."""

    def generate_spec_json(self) -> None:
        super().generate_spec_json()
        document_problems(self.spec_json)

    def make_response(self, rv: Any) -> Response:
        # A view returns its declared view model (or a tuple starting with one): the model is the body.
        if isinstance(rv, tuple) and rv and isinstance(rv[0], BaseModel):
            rv = (rv[0].model_dump(mode="json"), *rv[1:])
        elif isinstance(rv, BaseModel):
            rv = rv.model_dump(mode="json")
        return super().make_response(rv)


BEARER = {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
HEALTH_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
OPERATIONAL_PATHS = HEALTH_PATHS | {"/openapi.json"}
NOT_WRITTEN = "the database is not answering; nothing was written, try again"
OUT_OF_TIME = (
    "the request ran out of time waiting for the database or another writer; "
    "it may or may not have been written: repeat it (an order with the same Idempotency-Key)"
)


def create_service_app(
    service: str,
    settings: Settings,
    blueprints: Sequence[APIBlueprint],
    *,
    description: str,
    verifier: auth.TokenVerifier | None = None,
) -> ServiceApp:
    """A Flask app for `service` with the shared behaviour and the service's blueprints."""
    configure_logging(service, settings.process, settings.log_level)
    personal.configure(settings)
    bodies.install()
    app = ServiceApp(
        f"civicloop.{service}",
        info=Info(title=f"civicloop {service}", version="1.0.0", description=description),
        security_schemes=BEARER,
        validation_error_status=422,
        validation_error_callback=lambda error: validation_problem(error).response(request.path),
        doc_ui=False,
    )
    app.json = JSONProvider(app)
    app.config["CIVICLOOP_SETTINGS"] = settings
    app.extensions["civicloop.auth"] = verifier or auth.TokenVerifier(settings)
    db.connect_database(settings)
    for blueprint in blueprints:
        app.register_api(blueprint)
    _install_request_hooks(app, service, settings.request_timeout_seconds)
    _install_error_handlers(app)
    _install_operational_routes(app, service, settings)
    if settings.check_responses:
        contract = ResponseContract(lambda: app.api_doc)

        @app.after_request
        def check_response(response: Response) -> Response:
            if request.path in OPERATIONAL_PATHS or request.method in ("HEAD", "OPTIONS"):
                return response
            return contract.check(response)

    return app


def _refuse_nul_parameters() -> None:
    """A NUL in a path or query parameter is a 422 naming it, before any database sees it.

    PostgreSQL behind the wire server refuses U+0000 in a query ("unsupported Unicode escape
    sequence"), which would be a 500; bodies refuse it in their schemas (StrictBody). Open311 keeps
    its own error format and validation.
    """
    if request.path.startswith("/open311/"):
        return
    parameters = [*(request.view_args or {}).items(), *request.args.items(multi=True)]
    for name, value in parameters:
        if "\x00" in name or (isinstance(value, str) and "\x00" in value):
            field = name.replace("\x00", "")
            raise InvalidInput("must not contain the NUL character (\\u0000)", field=field or "query")


def _install_request_hooks(app: OpenAPI, service: str, timeout_seconds: float) -> None:
    @app.before_request
    def start_request() -> Response | None:
        g.started = time.perf_counter()
        # Closed in teardown: every database call and lease wait of this request stops at its deadline.
        g.deadline = ExitStack()
        deadlines.enter(g.deadline, timeout_seconds)
        g.request_id = request.headers.get("X-Request-ID") or new_id()
        clear_context()
        bind_context(request_id=g.request_id)
        if request.path in HEALTH_PATHS:
            return None
        if db.recently_unavailable():
            # Answer at once rather than tie up a thread for the whole server-selection timeout.
            return ServiceUnavailable(NOT_WRITTEN).response(request.path)
        auth.load_principal()
        _refuse_nul_parameters()
        return None

    @app.teardown_request
    def end_deadline(_error: BaseException | None) -> None:
        stack = g.pop("deadline", None)
        if stack is not None:
            stack.close()

    @app.after_request
    def finish_request(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if request.path not in HEALTH_PATHS:
            HTTP_REQUESTS.labels(service, request.method, route, str(response.status_code)).inc()
            HTTP_LATENCY.labels(service, request.method, route).observe(elapsed)
            log.info(
                "http.request",
                method=request.method,
                path=request.path,
                status=response.status_code,
                duration_s=round(elapsed, 4),
            )
        return response


DOMAIN_PROBLEMS: tuple[tuple[type[domain.DomainError], type[Problem]], ...] = (
    (domain.Missing, NotFound),
    (domain.NotYours, Forbidden),
    (domain.StateConflict, Conflict),
    (domain.DomainError, InvalidInput),
)


def domain_problem(error: domain.DomainError) -> Problem:
    """The problem a refusal of the rules becomes: its kind decides the status, its class the type."""
    problem_class = next(problem for kind, problem in DOMAIN_PROBLEMS if isinstance(error, kind))
    slug = re.sub(r"(?<!^)(?=[A-Z])", "-", type(error).__name__).lower()
    return problem_class(str(error), slug=slug, field=error.field)


def _install_error_handlers(app: OpenAPI) -> None:
    @app.errorhandler(domain.DomainError)
    def on_domain_error(error: domain.DomainError) -> Response:
        return domain_problem(error).response(request.path)

    @app.errorhandler(Problem)
    def on_problem(problem: Problem) -> Response:
        return problem.response(request.path)

    @app.errorhandler(ValidationError)
    def on_validation(error: ValidationError) -> Response:
        # Only reached for models a view validates by hand (flask-openapi3 handles its own).
        return validation_problem(error).response(request.path)

    @app.errorhandler(HTTPException)
    def on_http_exception(error: HTTPException) -> Response:
        if error.response is not None:  # already a full response (e.g. from validation)
            return error.response
        body = {
            "type": "about:blank",
            "title": error.name,
            "status": error.code or 500,
            "detail": error.description or error.name,
            "instance": request.path,
        }
        return problem_response(body, error.code or 500)

    @app.errorhandler(db.DatabaseUnavailable)
    def on_database_unavailable(error: Exception) -> Response:
        log.warning("database.unavailable", error=str(error)[:200])
        if isinstance(error, ServerSelectionTimeoutError):
            # No server was reached, so no write was sent.
            db.mark_unavailable()
            detail = NOT_WRITTEN
        else:
            # The connection broke with a write in flight (seen when the server stopped under load):
            # whether it landed is unknown, and only a repeat can tell.
            detail = (
                "the database went away during the request; it may or may not have been written: "
                "repeat it (an order with the same Idempotency-Key)"
            )
        return ServiceUnavailable(detail).response(request.path)

    @app.errorhandler(deadlines.DeadlineExceeded)
    @app.errorhandler(locks.LockTimeout)
    def on_out_of_time(error: Exception) -> Response:
        log.warning("http.out_of_time", error=str(error)[:200])
        return ServiceUnavailable(OUT_OF_TIME).response(request.path)

    @app.errorhandler(PyMongoError)
    def on_database_error(error: PyMongoError) -> Response:
        if not error.timeout:  # only the request's own deadline is ours to answer; the rest is a bug
            return on_unexpected(error)
        log.warning("http.out_of_time", error=str(error)[:200])
        return ServiceUnavailable(OUT_OF_TIME).response(request.path)

    @app.errorhandler(OperationFailure)
    def on_operation_failure(error: OperationFailure) -> Response:
        if not db.backend_unavailable(error):
            return on_database_error(error)
        # The server answered that its storage is away: the command was not run.
        log.warning("database.unavailable", error=str(error)[:200])
        db.mark_unavailable()
        return ServiceUnavailable(NOT_WRITTEN).response(request.path)

    @app.errorhandler(Exception)
    def on_unexpected(error: Exception) -> Response:
        log.exception("http.unhandled_error")
        body = {
            "type": "about:blank",
            "title": "Internal Server Error",
            "status": 500,
            "detail": "an unexpected error; it has been logged with this request id",
            "request_id": g.get("request_id"),
        }
        return problem_response(body, 500)


class _BrokerCheck:
    """Connects to the broker at most every few seconds; /readyz is polled often."""

    def __init__(self, amqp_url: str, ttl: float = 3.0) -> None:
        self.amqp_url = amqp_url
        self.ttl = ttl
        self.checked_at = 0.0
        self.error: str | None = "not checked yet"

    def __call__(self) -> str | None:
        if time.monotonic() - self.checked_at < self.ttl:
            return self.error
        try:
            # Ready when any node of a failover list answers: the clients fail over to it.
            connection, _ = connect_any(self.amqp_url, connect_timeout=2)
            connection.close()
            self.error = None
        except Exception as error:
            self.error = f"{type(error).__name__}: {error}"[:200]
        self.checked_at = time.monotonic()
        return self.error


def _install_operational_routes(app: OpenAPI, service: str, settings: Settings) -> None:
    broker_check = _BrokerCheck(settings.amqp_url)

    @app.get("/healthz", doc_ui=False)
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "service": service}

    @app.get("/readyz", doc_ui=False)
    def readyz() -> tuple[dict[str, Any], int]:
        checks: dict[str, str] = {}
        if db.recently_unavailable():
            checks["database"] = "unavailable: not answering within the last seconds"
        else:
            try:
                db.ping()
                checks["database"] = "ok"
            except Exception as error:
                if isinstance(error, ServerSelectionTimeoutError):
                    db.mark_unavailable()
                checks["database"] = f"{type(error).__name__}: {error}"[:200]
        broker_error = broker_check()
        checks["broker"] = broker_error or "ok"
        DEPENDENCY_UP.labels(service, "database").set(checks["database"] == "ok")
        DEPENDENCY_UP.labels(service, "broker").set(broker_error is None)
        ready = all(value == "ok" for value in checks.values())
        return {"status": "ready" if ready else "unavailable", "service": service, "checks": checks}, (
            200 if ready else 503
        )

    @app.get("/metrics", doc_ui=False)
    def metrics() -> Response:
        body, content_type = render_latest()
        return Response(body, content_type=content_type)

    @app.get("/openapi.json", doc_ui=False)
    def openapi_document() -> dict[str, Any]:
        return app.api_doc
