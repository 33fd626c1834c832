"""Local profiles (deploy/local/profiles/<name>.env): the stack scripts source them, this loads them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import PrivateAttr
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[1]
PROFILES_DIR = ROOT / "deploy" / "local" / "profiles"
Command = TypeVar("Command", bound=Callable[..., Any])


class Profile(BaseSettings):
    """A profile's KEY=VALUE lines; the environment wins for the settings the command reads (below)."""

    # Keys as the files and the scripts spell them; the file's other keys are kept as extras.
    model_config = SettingsConfigDict(case_sensitive=True, extra="allow", env_ignore_empty=True)

    CIVICLOOP_JWT_SECRET: str = ""
    CIVICLOOP_AMQP_URL: str = ""
    GATEWAY_PORT: int | None = None

    _name: str = PrivateAttr("")
    _file: Path = PrivateAttr(PROFILES_DIR)

    @classmethod
    def load(cls, name: str) -> Profile:
        """The profile `name`; without its file (in a container, say) only what the environment sets."""
        file = PROFILES_DIR / f"{name}.env"
        profile = cls(_env_file=file if file.is_file() else None)
        profile._name, profile._file = name, file
        return profile

    @property
    def name(self) -> str:
        """The profile's name, which also names its run directory (.run/<name>)."""
        return self._name

    def values(self) -> dict[str, str]:
        """Every setting that has a value, as text (as the shell scripts see them)."""
        return {key: str(value) for key, value in self.model_dump().items() if value not in (None, "")}

    def need(self, key: str) -> str:
        """The value of `key`; a missing one stops the command, saying where it was looked for."""
        value = self.values().get(key)
        if not value:
            where = str(self._file) if self._file.is_file() else f"{self._file} (no such file)"
            raise click.ClickException(f"{key} is not set: not in the environment, nor in {where}")
        return value

    def gateway(self, given: str | None = None) -> str:
        """The gateway URL given on the command line, or the profile's."""
        return given or f"http://127.0.0.1:{self.need('GATEWAY_PORT')}"


def _load(_context: click.Context, _parameter: click.Parameter, name: str) -> Profile:
    return Profile.load(name)


def profile_option(command: Command) -> Command:
    """`--profile NAME` (default `run`), handed to the command as a loaded Profile."""
    return click.option(
        "--profile",
        default="run",
        show_default=True,
        callback=_load,
        help="local profile: deploy/local/profiles/<NAME>.env (the environment wins over it)",
    )(command)
