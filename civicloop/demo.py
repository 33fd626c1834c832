"""`civicloop demo load|hello`: Gutian County's demo data, and where everything runs."""

from __future__ import annotations

from collections.abc import Iterable

import click

from civicloop.demo_accounts import load_accounts, logins_text
from civicloop.demo_loader import Gateway, load_demo
from civicloop.profiles import Profile, profile_option
from services import SERVICES
from services.common.auth import issue_token


@click.group()
def demo() -> None:
    """Demo data for the county, loaded through the gateway."""


@demo.command("load")
@click.option("--gateway", default=None, help="gateway URL (default: the profile's)")
@click.option("--volunteers", default=400, show_default=True)
@profile_option
def demo_load(gateway: str | None, volunteers: int, profile: Profile) -> None:
    """Stations, teams and volunteers of Gutian County (skipped when already there)."""
    secret = profile.need("CIVICLOOP_JWT_SECRET")
    load_demo(profile.gateway(gateway), secret, volunteer_count=volunteers, echo=click.echo)
    # Logins for every role (made again only if missing: an existing name answers 409).
    load_accounts(
        Gateway(profile.gateway(gateway), issue_token(secret, sub="demo-loader", role="admin")), click.echo
    )


@demo.command("hello")
@click.option("--gateway", default=None, help="gateway URL (default: the profile's)")
@profile_option
def demo_hello(gateway: str | None, profile: Profile) -> None:
    """Print where everything runs and a first call to try."""
    click.echo(hello(profile.gateway(gateway), profile))


def _lines(rows: Iterable[tuple[str, str]]) -> str:
    return "\n".join(f"  {name:<16} {value}" for name, value in rows)


def hello(gateway_url: str, profile: Profile) -> str:
    """Where everything runs, and a first loop to try by hand."""
    settings, profile_name = profile.values(), profile.name
    ports = {svc: settings.get(f"{svc.upper()}_WEB_PORT", "?") for svc in SERVICES}
    metrics = {svc: settings.get(f"{svc.upper()}_WORKER_METRICS_PORT", "?") for svc in ports}
    secret = settings.get("CIVICLOOP_JWT_SECRET", "")
    volunteer = None
    if secret:
        admin = Gateway(gateway_url, issue_token(secret, sub="hello", role="admin"))
        response = admin.call(
            "GET", "/api/v1/volunteers", params={"township": "平湖镇", "skill": "elder_care", "limit": 1}
        )
        if response.ok and response.json()["items"]:
            volunteer = response.json()["items"][0]
    token = f".venv/bin/civicloop token --profile {profile_name}"
    body = (
        '{"category":"elder_care","title":"帮忙买菜","description":"腿脚不便，想请人帮忙买一周的菜",'
        '"township":"平湖镇","village":"平湖村"}'
    )
    text = [
        "",
        "civicloop is up. Everything the front ends use goes through the gateway:",
        _lines(
            [
                ("gateway", f"{gateway_url}/api/v1/...  (OpenAPI: each service's /openapi.json)"),
                (
                    "services (web)",
                    "  ".join(f"{svc} :{port}" for svc, port in ports.items())
                    + "   /healthz /readyz /metrics",
                ),
                ("workers", "  ".join(f"{svc} :{port}/metrics" for svc, port in metrics.items())),
                ("RabbitMQ", f"127.0.0.1:5672 vhost {settings.get('RABBITMQ_VHOST', '?')}"),
                (
                    "databases",
                    "FerretDB on PostgreSQL: "
                    + ", ".join(f"{svc} :{settings.get(f'{svc.upper()}_DB_PORT', '?')}" for svc in ports),
                ),
                ("logs", f".run/{profile_name}/logs/  (JSON lines; grep a request id across all four)"),
            ]
        ),
        "",
        f"The console: {gateway_url}/  (phone-sized first; Chinese, with English in the header)",
        *logins_text(gateway_url),
        "",
        "Try a loop:",
        f"  RESIDENT=$({token} --role resident --sub resident-0001)",
        f'  curl -s -X POST {gateway_url}/api/v1/requests -H "Authorization: Bearer $RESIDENT" \\',
        f"       -H 'Content-Type: application/json' -d '{body}'",
    ]
    text += [
        f"  ADMIN=$({token} --role admin --sub admin-1)",
        f'  curl -s {gateway_url}/api/v1/dispatch/<request id> -H "Authorization: Bearer $ADMIN"',
        "  # shows who was offered it, and the candidates weighed",
    ]
    if volunteer:
        text += [
            f"  # for example {volunteer['name']}, an elder-care volunteer of 平湖镇:",
            f"  VOLUNTEER=$({token} --role volunteer --sub {volunteer['id']})",
            f'  curl -s {gateway_url}/api/v1/tasks -H "Authorization: Bearer $VOLUNTEER"',
        ]
    text += ["  (README.md walks through accept, check-in, complete and the rating)", "", "Stop: make stop"]
    return "\n".join(text)
