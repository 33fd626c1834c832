"""The `civicloop` command's profiles: the same values for pydantic-settings as for the shell scripts."""

from __future__ import annotations

import subprocess

import click
import jwt
import pytest
from click.testing import CliRunner

from civicloop import profiles
from civicloop.cli import main
from civicloop.profiles import PROFILES_DIR, Profile

UNIT_PROFILE = """# A profile for this test; the scripts source such files with `set -a`.
CIVICLOOP_PROFILE=unit
CIVICLOOP_JWT_SECRET=file-secret-0123456789-0123456789
CIVICLOOP_AMQP_URL="amqp://guest:guest@127.0.0.1:1/x;amqp://guest:guest@127.0.0.1:2/x"
GATEWAY_PORT=18080
REQUESTS_DB_PORT=27201
"""


@pytest.fixture
def unit_profile(tmp_path, monkeypatch) -> str:
    (tmp_path / "unit.env").write_text(UNIT_PROFILE, encoding="utf-8")
    monkeypatch.setattr(profiles, "PROFILES_DIR", tmp_path)
    for key in ("CIVICLOOP_JWT_SECRET", "CIVICLOOP_AMQP_URL", "GATEWAY_PORT"):
        monkeypatch.delenv(key, raising=False)
    return "unit"


def exported(script: str) -> dict[str, str]:
    """The environment a clean bash has after running `script`."""
    raw = subprocess.run(["env", "-i", "bash", "-c", f"{script}; env -0"], capture_output=True, check=True)
    return dict(item.split("=", 1) for item in raw.stdout.decode().split("\0") if item)


def shell_values(path) -> dict[str, str]:
    """What the stack scripts see (the file sourced with `set -a`, as lib.sh does); empty is unset."""
    ambient = exported("true")
    sourced = exported(f'set -a; . "{path}"; set +a')
    return {key: value for key, value in sourced.items() if value and ambient.get(key) != value}


@pytest.mark.parametrize("path", sorted(PROFILES_DIR.glob("*.env")), ids=lambda path: path.stem)
def test_every_profile_reads_the_same_to_python_and_to_bash(path, monkeypatch):
    for key in Profile.model_fields:
        monkeypatch.delenv(key, raising=False)
    assert Profile.load(path.stem).values() == shell_values(path)


def test_the_file_gives_every_key_and_the_environment_wins_for_the_commands_own(unit_profile, monkeypatch):
    profile = Profile.load(unit_profile)
    assert profile.need("CIVICLOOP_AMQP_URL").split(";")[1] == "amqp://guest:guest@127.0.0.1:2/x"
    assert profile.gateway() == "http://127.0.0.1:18080"
    assert profile.values()["REQUESTS_DB_PORT"] == "27201"
    monkeypatch.setenv("CIVICLOOP_JWT_SECRET", "from-the-environment")
    monkeypatch.setenv("GATEWAY_PORT", "")  # empty counts as unset, as in the shell
    assert Profile.load(unit_profile).need("CIVICLOOP_JWT_SECRET") == "from-the-environment"
    assert Profile.load(unit_profile).gateway() == "http://127.0.0.1:18080"


def test_without_its_file_a_profile_is_the_environment_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(profiles, "PROFILES_DIR", tmp_path)
    monkeypatch.delenv("CIVICLOOP_JWT_SECRET", raising=False)
    monkeypatch.setenv("CIVICLOOP_AMQP_URL", "amqp://guest:guest@broker:5672/civicloop")
    profile = Profile.load("in-a-container")
    assert profile.need("CIVICLOOP_AMQP_URL") == "amqp://guest:guest@broker:5672/civicloop"
    with pytest.raises(
        click.ClickException, match=r"CIVICLOOP_JWT_SECRET .*in-a-container\.env \(no such file\)"
    ):
        profile.need("CIVICLOOP_JWT_SECRET")


def test_token_is_signed_with_the_profiles_secret(unit_profile):
    result = CliRunner().invoke(
        main, ["token", "--role", "dispatcher", "--sub", "d-1", "--profile", unit_profile]
    )
    assert result.exit_code == 0, result.output
    claims = jwt.decode(result.stdout.strip(), "file-secret-0123456789-0123456789", algorithms=["HS256"])
    assert (claims["sub"], claims["role"]) == ("d-1", "dispatcher")


def test_a_command_without_its_setting_stops_and_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setattr(profiles, "PROFILES_DIR", tmp_path)
    monkeypatch.delenv("CIVICLOOP_AMQP_URL", raising=False)
    result = CliRunner().invoke(main, ["dlq", "list", "--profile", "typo"])
    assert result.exit_code == 1
    assert "CIVICLOOP_AMQP_URL is not set" in result.output and "typo.env (no such file)" in result.output
