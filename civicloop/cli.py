"""The `civicloop` command: one click group, one module per command (group)."""

from __future__ import annotations

import click

from civicloop.demo import demo
from civicloop.dlq import dlq
from civicloop.keys import keys
from civicloop.report import report
from civicloop.simulate.command import simulate_command
from civicloop.tokens import token
from civicloop.trace import trace


@click.group()
def main() -> None:
    """civicloop: the county volunteer service loop."""


for command in (token, keys, dlq, demo, report, trace, simulate_command):
    main.add_command(command)
