"""The ``taskflow`` command group; each command lives in a module of its own."""

from __future__ import annotations

import click

from taskflow_core import DISTRIBUTION


@click.group(help="taskflow: a case-workflow engine and HTTP API.")
@click.version_option(package_name=DISTRIBUTION)
def cli() -> None:
    pass


def _register() -> None:
    # Imported here so that each command module can import this group's helpers freely.
    from . import graph, migrate, prune, relay, serve, timers

    cli.add_command(migrate.migrate)
    cli.add_command(serve.serve)
    cli.add_command(timers.timers)
    cli.add_command(relay.relay)
    cli.add_command(graph.graph)
    cli.add_command(prune.prune)


_register()
