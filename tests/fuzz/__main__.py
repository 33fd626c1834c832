"""`python -m tests.fuzz --cases N [--profile NAME]`: fuzz a stack that is up, print the counts.

Exits 1 when any case met a server error or an answer its document does not declare.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from civicloop.profiles import ROOT, Profile
from tests.fuzz.fuzzer import Target, as_json, fuzz, report, web_ports


@click.command()
@click.option("--profile", "profile_name", default="test", show_default=True)
@click.option("--cases", default=10_000, show_default=True, help="generated cases in all")
@click.option("--processes", default=2, show_default=True, help="generating cases is CPU work: one per core")
@click.option("--out", type=click.Path(path_type=Path), default=ROOT / "bench-results" / "fuzz.json")
def main(profile_name: str, cases: int, processes: int, out: Path) -> None:
    """Fuzz every service's OpenAPI document through the profile's gateway."""
    profile = Profile.load(profile_name)
    values = profile.values()
    target = Target(
        gateway=f"http://127.0.0.1:{values['GATEWAY_PORT']}",
        web_ports=web_ports(values),
        secret=profile.need("CIVICLOOP_JWT_SECRET"),
    )
    tally = fuzz(target, cases, processes=processes, echo=click.echo)
    report(tally, echo=click.echo)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(as_json(tally))
    sys.exit(1 if tally.server_errors or tally.schema_violations else 0)


if __name__ == "__main__":
    main()
