"""Event entrypoints of hours."""

from __future__ import annotations

from services.common.consumer import HandlerMap
from services.volunteers.hours import usecases

HANDLERS: HandlerMap = {("task.completed", 1): usecases.credit}
