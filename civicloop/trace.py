"""`civicloop trace ID`: follow one request through every process's JSON log lines."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import click

from civicloop.profiles import ROOT, Profile, profile_option

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


@click.command()
@click.argument("request_id")
@click.option(
    "--logs",
    "logs_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="directory of the JSON logs (default: the profile's, .run/<profile>/logs)",
)
@click.option("--json", "as_json", is_flag=True, help="print the matching lines as they are")
@profile_option
def trace(request_id: str, logs_dir: Path | None, as_json: bool, profile: Profile) -> None:
    """Follow one request through the services' logs (web and worker), oldest line first."""
    logs_dir = logs_dir or ROOT / ".run" / profile.name / "logs"
    paths = sorted([*logs_dir.glob("*-web.log"), *logs_dir.glob("*-worker.log")])
    if not paths:
        raise click.ClickException(f"no service logs in {logs_dir}")
    for entry in matching_lines(paths, request_id):
        click.echo(json.dumps(entry, ensure_ascii=False) if as_json else describe(entry))
