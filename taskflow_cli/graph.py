"""``taskflow graph``: the declared workflow as a Mermaid state diagram or a Graphviz graph.

A ``*`` source ("from any status") is drawn as one edge from every other declared status:
both formats then read as plain state diagrams, with nothing to explain in a legend. The
change from the target to itself, which ``*`` also allows, is left out as noise. A pair
declared more than once is one edge, labelled ``guarded`` only when every declaration of it
is guarded (one unguarded declaration opens it to everyone).
"""

from __future__ import annotations

from typing import Any

import click

from taskflow_compose import load_flow
from taskflow_compose.environment import APP_ENV

from .loading import load_app

GUARDED = "guarded"

Edge = tuple[str, str, bool]  # source, target, guarded


def edges(workflow: dict[str, Any]) -> list[Edge]:
    """What to draw, from ``Taskflow.workflow()``: in declaration order, ``*`` expanded over
    the declared statuses in sorted order."""
    statuses: list[str] = workflow["statuses"]
    drawn: dict[tuple[str, str], bool] = {}
    for declared in workflow["transitions"]:
        target = declared["to"]
        if declared["from"] == "*":
            sources = [status for status in statuses if status != target]
        else:
            sources = [declared["from"]]
        for source in sources:
            drawn[source, target] = drawn.get((source, target), True) and declared["guarded"]
    return [(source, target, guarded) for (source, target), guarded in drawn.items()]


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


def dot(workflow: dict[str, Any]) -> str:
    lines = [
        "digraph workflow {",
        "    rankdir=LR;",
        "    node [shape=box, style=rounded];",
    ]
    drawn = edges(workflow)
    # Every status as a node first, in the order the edges reach them (dot lays nodes out in
    # the order it meets them, so the diagram reads from the first declaration on); then any
    # status reached only through "*", which has no edge of its own.
    met = [status for source, target, _ in drawn for status in (source, target)]
    nodes = dict.fromkeys([*met, *workflow["statuses"]])
    lines += [f'    "{status}";' for status in nodes]
    for source, target, guarded in drawn:
        attributes = f' [label="{GUARDED}", style=dashed]' if guarded else ""
        lines.append(f'    "{source}" -> "{target}"{attributes};')
    lines.append("}")
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
