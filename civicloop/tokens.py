"""`civicloop token`: local HS256 tokens for calls by hand and scripts."""

from __future__ import annotations

from datetime import timedelta

import click

from civicloop.profiles import Profile, profile_option
from services.common.auth import Role, issue_token


@click.command()
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--sub", required=True, help="the subject: a resident, volunteer or staff id")
@click.option("--township", default=None, help="for township staff")
@click.option("--hours", default=12, show_default=True, type=int, help="lifetime")
@profile_option
def token(role: str, sub: str, township: str | None, hours: int, profile: Profile) -> None:
    """Issue a local HS256 token (signed with CIVICLOOP_JWT_SECRET or the profile's)."""
    secret = profile.need("CIVICLOOP_JWT_SECRET")
    click.echo(issue_token(secret, sub=sub, role=role, township=township, ttl=timedelta(hours=hours)))
