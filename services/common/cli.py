"""The `civicloop` command: tokens, dead letters, demo data, the county report."""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta
from pathlib import Path

import click

from services import SERVICES
from services.common.auth import Role, issue_token
from services.common.deadletters import DeadLetterTool

ROOT = Path(__file__).resolve().parents[2]


def profile_settings(profile: str | None) -> dict[str, str]:
    """KEY=VALUE pairs of a local profile (deploy/local/profiles/<profile>.env), or {}."""
    if not profile:
        return {}
    path = ROOT / "deploy" / "local" / "profiles" / f"{profile}.env"
    if not path.exists():
        raise click.BadParameter(f"no profile file {path}", param_hint="--profile")
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            # Values may be quoted (a shell sources the same file): `A="x;y"` is x;y.
            values[key.strip()] = value.strip().strip('"')
    return values


def setting(name: str, profile: str | None, default: str | None = None) -> str | None:
    """The environment wins over the profile file."""
    return os.environ.get(name) or profile_settings(profile).get(name) or default


@click.group()
def main() -> None:
    """civicloop: the county volunteer service loop."""


@main.command()
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--sub", required=True, help="the subject: a resident, volunteer or staff id")
@click.option("--township", default=None, help="for township staff")
@click.option("--hours", default=12, show_default=True, type=int, help="lifetime")
@click.option("--profile", default="run", show_default=True, help="local profile whose secret signs it")
def token(role: str, sub: str, township: str | None, hours: int, profile: str) -> None:
    """Issue a local HS256 token (signed with CIVICLOOP_JWT_SECRET or the profile's)."""
    secret = setting("CIVICLOOP_JWT_SECRET", profile)
    if not secret:
        raise click.ClickException("no secret: set CIVICLOOP_JWT_SECRET or pass --profile")
    click.echo(issue_token(secret, sub=sub, role=role, township=township, ttl=timedelta(hours=hours)))


@main.group()
def dlq() -> None:
    """Look at and replay a service's dead letters."""


def _dead_letters(profile: str | None) -> DeadLetterTool:
    url = setting("CIVICLOOP_AMQP_URL", profile, "amqp://guest:guest@127.0.0.1:5672/civicloop")
    return DeadLetterTool(url or "")


SERVICE_CHOICE = click.Choice(SERVICES)


@dlq.command("list")
@click.option("--profile", default="run", show_default=True)
def dlq_list(profile: str) -> None:
    """How many dead letters each service holds."""
    tool = _dead_letters(profile)
    for service, count in tool.counts().items():
        click.echo(f"{service:<11} {count}")


@dlq.command("show")
@click.argument("service", type=SERVICE_CHOICE)
@click.option("--limit", default=20, show_default=True)
@click.option("--profile", default="run", show_default=True)
def dlq_show(service: str, limit: int, profile: str) -> None:
    """Print a service's dead letters (they stay in the queue)."""
    for letter in _dead_letters(profile).peek(service, limit):
        click.echo(json.dumps(letter, ensure_ascii=False))


@dlq.command("replay")
@click.argument("service", type=SERVICE_CHOICE)
@click.option("--id", "event_ids", multiple=True, help="only these event ids (default: all)")
@click.option("--profile", default="run", show_default=True)
def dlq_replay(service: str, event_ids: tuple[str, ...], profile: str) -> None:
    """Send dead letters back to the service's queue for another try."""
    replayed = _dead_letters(profile).replay(service, set(event_ids) or None)
    click.echo(f"replayed {replayed} message(s) to {service}.events")


@dlq.command("purge")
@click.argument("service", type=SERVICE_CHOICE)
@click.option("--yes", is_flag=True, help="do not ask")
@click.option("--profile", default="run", show_default=True)
def dlq_purge(service: str, yes: bool, profile: str) -> None:
    """Drop every dead letter of a service."""
    if not yes:
        click.confirm(f"drop every dead letter of {service}?", abort=True)
    purged = _dead_letters(profile).purge(service)
    click.echo(f"purged {purged} message(s) from {service}.dead")


@main.group()
def demo() -> None:
    """Demo data for the county, loaded through the gateway."""


@demo.command("load")
@click.option("--gateway", default=None, help="gateway URL (default: the profile's)")
@click.option("--profile", default="run", show_default=True)
@click.option("--volunteers", default=400, show_default=True)
def demo_load(gateway: str | None, profile: str, volunteers: int) -> None:
    """Stations, teams and volunteers of Gutian County (skipped when already there)."""
    from services.common.demo import load_demo

    gateway = gateway or f"http://127.0.0.1:{setting('GATEWAY_PORT', profile, '8080')}"
    secret = setting("CIVICLOOP_JWT_SECRET", profile)
    if not secret:
        raise click.ClickException("no secret: set CIVICLOOP_JWT_SECRET or pass --profile")
    load_demo(gateway, secret, volunteer_count=volunteers, echo=click.echo)


@demo.command("hello")
@click.option("--gateway", default=None)
@click.option("--profile", default="run", show_default=True)
def demo_hello(gateway: str | None, profile: str) -> None:
    """Print where everything runs and a first call to try."""
    from services.common.demo import hello

    gateway = gateway or f"http://127.0.0.1:{setting('GATEWAY_PORT', profile, '8080')}"
    click.echo(hello(gateway, profile_settings(profile), profile))


@main.command()
@click.option("--from", "start", default=None, help="start of the period (ISO 8601 date or time)")
@click.option("--to", "end", default=None, help="end of the period, exclusive")
@click.option("--township", default=None, help="one township only")
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path), default=None, help="chart file")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
@click.option("--gateway", default=None, help="gateway URL (default: the profile's)")
@click.option("--profile", default="run", show_default=True)
def report(
    start: str | None,
    end: str | None,
    township: str | None,
    png: Path | None,
    as_json: bool,
    gateway: str | None,
    profile: str,
) -> None:
    """The county report per township and in total (GET /api/v1/stats/rollout)."""
    from services.requests.report import draw_png, fetch, format_table

    gateway = gateway or f"http://127.0.0.1:{setting('GATEWAY_PORT', profile, '8080')}"
    secret = setting("CIVICLOOP_JWT_SECRET", profile)
    if not secret:
        raise click.ClickException("no secret: set CIVICLOOP_JWT_SECRET or pass --profile")
    token = issue_token(secret, sub="civicloop-report", role="admin", ttl=timedelta(minutes=5))
    try:
        figures = fetch(gateway, token, start, end, township)
    except RuntimeError as error:
        raise click.ClickException(str(error)) from None
    click.echo(json.dumps(figures, ensure_ascii=False, indent=2) if as_json else format_table(figures))
    if png:
        click.echo(f"chart: {draw_png(figures, png)}", err=True)


@main.command()
@click.argument("request_id")
@click.option("--logs", "logs_dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--json", "as_json", is_flag=True, help="print the matching lines as they are")
@click.option("--profile", default="run", show_default=True, help="local profile whose logs to read")
def trace(request_id: str, logs_dir: Path | None, as_json: bool, profile: str) -> None:
    """Follow one request through the four services' logs (web and worker), oldest line first."""
    from services.common.trace import describe, matching_lines

    logs_dir = logs_dir or ROOT / ".run" / profile / "logs"
    paths = sorted([*logs_dir.glob("*-web.log"), *logs_dir.glob("*-worker.log")])
    if not paths:
        raise click.ClickException(f"no service logs in {logs_dir}")
    for entry in matching_lines(paths, request_id):
        click.echo(json.dumps(entry, ensure_ascii=False) if as_json else describe(entry))


if __name__ == "__main__":
    sys.exit(main())
