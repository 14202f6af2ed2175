"""The declared workflow as something to draw: its edges, and a Graphviz DOT text of them.

Shared by ``taskflow graph`` (taskflow_cli/graph.py) and the case browser's workflow page
(taskflow_falcon/ui/diagram.py), so both draw the same graph.

A ``*`` source ("from any status") is drawn as one edge from every other declared status:
both then read as plain state diagrams, with nothing to explain in a legend. The change from
the target to itself, which ``*`` also allows, is left out as noise. A pair declared more
than once is one edge, labelled ``guarded`` only when every declaration of it is guarded (one
unguarded declaration opens it to everyone).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

GUARDED = "guarded"

Edge = tuple[str, str, bool]  # source, target, guarded


def edges(workflow: Mapping[str, Any]) -> list[Edge]:
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


def nodes(workflow: Mapping[str, Any]) -> list[str]:
    """Every status to draw, in the order the edges reach them (dot lays nodes out in the
    order it meets them, so the diagram reads from the first declaration on); then any status
    reached only through ``*``, which has no edge of its own."""
    met = [status for source, target, _ in edges(workflow) for status in (source, target)]
    return list(dict.fromkeys([*met, *workflow["statuses"]]))


def dot_string(text: str) -> str:
    """``text`` as a DOT quoted string."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def dot(workflow: Mapping[str, Any], labels: Mapping[str, str] | None = None) -> str:
    """The DOT text of the workflow; ``labels`` names a node's label other than its
    status."""
    lines = [
        "digraph workflow {",
        "    rankdir=LR;",
        "    node [shape=box, style=rounded];",
    ]
    for status in nodes(workflow):
        label = (labels or {}).get(status)
        attributes = f" [label={dot_string(label)}]" if label is not None else ""
        lines.append(f"    {dot_string(status)}{attributes};")
    for source, target, guarded in edges(workflow):
        attributes = f' [label="{GUARDED}", style=dashed]' if guarded else ""
        lines.append(f"    {dot_string(source)} -> {dot_string(target)}{attributes};")
    lines.append("}")
    return "\n".join(lines) + "\n"
