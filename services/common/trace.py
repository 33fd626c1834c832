"""Follow one request through every process's JSON log lines (`civicloop trace ID`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

# Where an id shows up in a line: workers bind the event's correlation id (the request id), web
# processes their HTTP request id, and paths name the request they are about.
ID_FIELDS = ("correlation_id", "request_id", "causation_id", "event_id")


def matching_lines(paths: Iterable[Path], wanted: str) -> Iterator[dict[str, Any]]:
    """JSON log lines that carry `wanted` in an id field or in their path, oldest first."""
    found: list[dict[str, Any]] = []
    for path in paths:
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if wanted not in line or not line.startswith("{"):
                    continue
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if any(entry.get(name) == wanted for name in ID_FIELDS) or wanted in str(
                    entry.get("path", "")
                ):
                    found.append(entry)
    yield from sorted(found, key=lambda entry: entry.get("time", ""))


def describe(entry: dict[str, Any]) -> str:
    """One readable line: when, which process, what happened."""
    where = f"{entry.get('service', '?')}-{entry.get('process', '?')}"
    what = entry.get("event", "")
    detail = " ".join(
        f"{key}={entry[key]}"
        for key in ("event_type", "method", "path", "status", "seconds", "duration_s", "error")
        if key in entry
    )
    return f"{entry.get('time', '')}  {where:<18} {what:<16} {detail}"
