"""`civicloop dlq list|show|replay|purge`: the operator's side of the dead-letter queues."""

from __future__ import annotations

import json

import click

from civicloop.profiles import Profile, profile_option
from services import SERVICES
from services.common.deadletters import DeadLetterTool

SERVICE = click.Choice(SERVICES)


def _dead_letters(profile: Profile) -> DeadLetterTool:
    return DeadLetterTool(profile.need("CIVICLOOP_AMQP_URL"))


@click.group()
def dlq() -> None:
    """Look at and replay a service's dead letters."""


@dlq.command("list")
@profile_option
def dlq_list(profile: Profile) -> None:
    """How many dead letters each service holds."""
    for service, count in _dead_letters(profile).counts().items():
        click.echo(f"{service:<11} {count}")


@dlq.command("show")
@click.argument("service", type=SERVICE)
@click.option("--limit", default=20, show_default=True)
@profile_option
def dlq_show(service: str, limit: int, profile: Profile) -> None:
    """Print a service's dead letters (they stay in the queue)."""
    for letter in _dead_letters(profile).peek(service, limit):
        click.echo(json.dumps(letter, ensure_ascii=False))


@dlq.command("replay")
@click.argument("service", type=SERVICE)
@click.option("--id", "event_ids", multiple=True, help="only these event ids (default: all)")
@profile_option
def dlq_replay(service: str, event_ids: tuple[str, ...], profile: Profile) -> None:
    """Send dead letters back to the service's queue for another try."""
    replayed = _dead_letters(profile).replay(service, set(event_ids) or None)
    click.echo(f"replayed {replayed} message(s) to {service}.events")


@dlq.command("purge")
@click.argument("service", type=SERVICE)
@click.option("--yes", is_flag=True, help="do not ask")
@profile_option
def dlq_purge(service: str, yes: bool, profile: Profile) -> None:
    """Drop every dead letter of a service."""
    if not yes:
        click.confirm(f"drop every dead letter of {service}?", abort=True)
    purged = _dead_letters(profile).purge(service)
    click.echo(f"purged {purged} message(s) from {service}.dead")
