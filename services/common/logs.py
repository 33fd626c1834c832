"""JSON log lines with the request and correlation ids bound for the whole unit of work."""

from __future__ import annotations

import logging
import sys

import structlog

from services.common.personal import redact_log_event


def configure_logging(service: str, process: str, level: str = "INFO") -> None:
    """Send structlog and the standard library's loggers to stdout as JSON lines."""
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
        _static_fields(service=service, process=process),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.dict_tracebacks,
            # Last before rendering, so tracebacks and the standard library's lines are covered too.
            redact_log_event,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Libraries chatter at INFO about every reconnect attempt; our own lines say what matters.
    for noisy in ("amqp", "kombu", "pymongo", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _static_fields(**fields: str) -> structlog.typing.Processor:
    def add(_logger: object, _name: str, event: dict) -> dict:
        for key, value in fields.items():
            event.setdefault(key, value)
        return event

    return add


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A logger whose lines carry whatever is bound in the current context."""
    return structlog.get_logger(name)


bind_context = structlog.contextvars.bind_contextvars
clear_context = structlog.contextvars.clear_contextvars
bound_context = structlog.contextvars.bound_contextvars
