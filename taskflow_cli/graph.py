"""``taskflow graph``: the declared workflow as a Mermaid state diagram or a Graphviz graph.

What is drawn (``*`` expanded, pairs merged) is taskflow_core/domain/drawing.py's, which the
case browser's workflow page draws too.
"""

from __future__ import annotations

from typing import Any

import click

from taskflow_compose import load_flow
from taskflow_compose.environment import APP_ENV
from taskflow_core.domain.drawing import GUARDED, dot, edges

from .loading import load_app


def mermaid(workflow: dict[str, Any]) -> str:
    # Mermaid reads "-" inside a state id as part of an arrow, so a hyphenated status gets an
    # id with "_" instead (statuses never hold "_", so ids stay unique) and its name as label.
    ids = {status: status.replace("-", "_") for status in workflow["statuses"]}
    lines = ["stateDiagram-v2"]
    lines += [f'    state "{status}" as {ids[status]}' for status in ids if "-" in status]
    for source, target, guarded in edges(workflow):
        label = f": {GUARDED}" if guarded else ""
        lines.append(f"    {ids[source]} --> {ids[target]}{label}")
    return "\n".join(lines) + "\n"


FORMATS = {"mermaid": mermaid, "dot": dot}


@click.command(help="Print the declared workflow as a Mermaid or Graphviz DOT diagram.")
@click.option(
    "--app",
    "app_spec",
    metavar="MODULE:ATTR",
    envvar=APP_ENV,
    help=f"A host module's configured Taskflow (or a callable returning one); default ${APP_ENV}.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(sorted(FORMATS)),
    default="mermaid",
    show_default=True,
    help="mermaid: a stateDiagram-v2; dot: for Graphviz (dot -Tsvg).",
)
@click.pass_context
def graph(ctx: click.Context, app_spec: str | None, output_format: str) -> None:
    workflow: dict[str, Any] = {"statuses": [], "transitions": []}
    if app_spec:
        # The host's own store is built, never used: declarations need no database.
        workflow = load_app(app_spec, lambda: load_flow(app_spec, None)).workflow()
    if not workflow["transitions"]:
        where = app_spec or f"a plain flow (name yours with --app or ${APP_ENV})"
        click.echo(f"no transitions are declared in {where}", err=True)
        ctx.exit(1)
    click.echo(FORMATS[output_format](workflow), nl=False)
