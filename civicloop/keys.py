"""`civicloop keys init|rotate|retire|prune|list`: the accounts service's RS256 signing keys.

The keyring is a file (`.run/<profile>/keys/jwt-keys.json` locally, a mounted Secret in a cluster);
the accounts service re-reads it when it changes, so none of these needs a restart (docs/adr/0081).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click

from civicloop.profiles import ROOT, Profile, profile_option
from services.common import keyring
from services.common.ids import isoformat, real_utcnow


def _file(given: str | None, profile: Profile) -> Path:
    if given:
        return Path(given)
    return ROOT / ".run" / profile.name / "keys" / "jwt-keys.json"


def _lifetime(profile: Profile) -> timedelta:
    return timedelta(seconds=int(profile.values().get("CIVICLOOP_ACCESS_TOKEN_SECONDS", "900")))


file_option = click.option("--file", "path", default=None, help="the keyring (default: the profile's)")


@click.group()
def keys() -> None:
    """The signing keys of access tokens: make, rotate, retire, list."""


@keys.command("init")
@file_option
@profile_option
def keys_init(path: str | None, profile: Profile) -> None:
    """Make a keyring with one active key, unless the file exists already."""
    target = _file(path, profile)
    if target.exists():
        keyring.read_keyring(target)
        click.echo(f"{target}: already there")
        return
    first = keyring.rotate(
        keyring.Keyring(), real_utcnow(), lead=timedelta(0), token_lifetime=_lifetime(profile)
    )
    keyring.write_keyring(target, first)
    click.echo(f"{target}: made key {first.keys[-1].kid}")


@keys.command("rotate")
@file_option
@click.option(
    "--lead", default=None, type=int, help="seconds before the new key signs (default: the profile's lead, 0)"
)
@profile_option
def keys_rotate(path: str | None, lead: int | None, profile: Profile) -> None:
    """Add the next key; it signs after --lead seconds, and older keys retire after the longest token."""
    target = _file(path, profile)
    lead = lead if lead is not None else int(profile.values().get("CIVICLOOP_KEY_PUBLISH_LEAD_SECONDS", "0"))
    try:
        rotated = keyring.rotate(
            keyring.read_keyring(target),
            real_utcnow(),
            lead=timedelta(seconds=lead),
            token_lifetime=_lifetime(profile),
        )
    except keyring.KeyringError as error:
        raise click.ClickException(str(error)) from None
    keyring.write_keyring(target, rotated)
    new = rotated.keys[-1]
    click.echo(f"added {new.kid}, signing from {isoformat(new.active_from)}")
    for key in rotated.keys[:-1]:
        if key.retire_at:
            click.echo(f"  {key.kid} retires at {isoformat(key.retire_at)}")


@keys.command("retire")
@click.argument("kid")
@file_option
@profile_option
def keys_retire(kid: str, path: str | None, profile: Profile) -> None:
    """Stop publishing KID now (a leaked key): its tokens stop verifying once verifiers refetch."""
    target = _file(path, profile)
    try:
        changed = keyring.retire(keyring.read_keyring(target), kid, real_utcnow())
    except keyring.KeyringError as error:
        raise click.ClickException(str(error)) from None
    keyring.write_keyring(target, changed)
    click.echo(f"retired {kid}")


@keys.command("prune")
@file_option
@profile_option
def keys_prune(path: str | None, profile: Profile) -> None:
    """Drop the keys no longer published."""
    target = _file(path, profile)
    before = keyring.read_keyring(target)
    after = keyring.prune(before, real_utcnow())
    keyring.write_keyring(target, after)
    click.echo(f"dropped {len(before.keys) - len(after.keys)} key(s)")


@keys.command("list")
@file_option
@profile_option
def keys_list(path: str | None, profile: Profile) -> None:
    """Each key, when it signs from, when it retires, and whether it signs now."""
    ring = keyring.read_keyring(_file(path, profile))
    now = real_utcnow()
    signing = ring.signing_key(now).kid if ring.published(now) else None
    for key in ring.keys:
        state = "signing" if key.kid == signing else ("published" if key.published_at(now) else "retired")
        retire = isoformat(key.retire_at) if key.retire_at else "-"
        click.echo(f"{key.kid}  {state:<9}  active from {isoformat(key.active_from)}  retires {retire}")
