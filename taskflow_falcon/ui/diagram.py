"""The declared workflow as an SVG picture, each status with its count of cases.

Graphviz's ``dot`` lays it out when the machine has it (Debian's ``graphviz``); otherwise a
plain layered drawing of our own: statuses in columns by their distance from ``new`` (or the
first declared status), a change forward as a straight arrow, a change back or within a
column as a curve below. Every text in the picture is escaped here; the statuses are
``[a-z-]+`` anyway, and the counts numbers.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from collections.abc import Mapping
from typing import Any

from markupsafe import Markup, escape

from taskflow_core.domain.drawing import dot, edges, nodes

logger = logging.getLogger(__name__)

DOT_SECONDS = 5
BOX_WIDTH = 150
BOX_HEIGHT = 52
COLUMN_GAP = 70
ROW_GAP = 28
MARGIN = 24


def label(status: str, count: int) -> str:
    return f"{status}\n{count} case{'' if count == 1 else 's'}"


def draw(workflow: Mapping[str, Any], counts: Mapping[str, int]) -> Markup:
    """The SVG of ``workflow`` (``Taskflow.workflow()``), to put in a page as it is."""
    drawn = with_dot(workflow, counts) if shutil.which("dot") else None
    return drawn if drawn is not None else plain(workflow, counts)


def with_dot(workflow: Mapping[str, Any], counts: Mapping[str, int]) -> Markup | None:
    """Graphviz's drawing, or None when it fails (the plain drawing is used then)."""
    labels = {status: label(status, counts.get(status, 0)) for status in nodes(workflow)}
    try:
        result = subprocess.run(
            ["dot", "-Tsvg"],
            input=dot(workflow, labels).encode(),
            capture_output=True,
            timeout=DOT_SECONDS,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as error:
        logger.warning("dot could not draw the workflow (%s); drawing it plainly", error)
        return None
    svg = result.stdout.decode("utf-8", "replace")
    # The picture goes inside a page: its XML prolog and doctype must not.
    start = svg.find("<svg")
    if start < 0:
        return None
    svg = svg[start:]
    # dot's <title> elements would show as tooltips named "node1"; the page has its own.
    svg = re.sub(r"<title>.*?</title>", "", svg, flags=re.DOTALL)
    svg = svg.replace("<svg ", '<svg role="img" aria-labelledby="workflow-heading" ', 1)
    # dot escapes the labels it writes (&, <, >); the statuses and counts hold none anyway.
    return Markup(svg)


def columns_of(workflow: Mapping[str, Any]) -> dict[str, int]:
    """Each status's column: its distance from the start along declared changes; statuses
    no change reaches come after."""
    order = nodes(workflow)
    if not order:
        return {}
    start = "new" if "new" in order else order[0]
    following: dict[str, list[str]] = {}
    for source, target, _ in edges(workflow):
        following.setdefault(source, []).append(target)
    column = {start: 0}
    frontier = [start]
    while frontier:
        reached = []
        for status in frontier:
            for target in following.get(status, ()):
                if target not in column:
                    column[target] = column[status] + 1
                    reached.append(target)
        frontier = reached
    last = max(column.values(), default=0)
    for status in order:
        if status not in column:
            last += 1
            column[status] = last
    return column


def plain(workflow: Mapping[str, Any], counts: Mapping[str, int]) -> Markup:
    """Our own drawing: boxes in columns, arrows between them."""
    column = columns_of(workflow)
    rows: dict[int, int] = {}
    place: dict[str, tuple[int, int]] = {}
    for status in nodes(workflow):
        col = column[status]
        row = rows.get(col, 0)
        rows[col] = row + 1
        place[status] = (
            MARGIN + col * (BOX_WIDTH + COLUMN_GAP),
            MARGIN + row * (BOX_HEIGHT + ROW_GAP),
        )
    width = MARGIN * 2 + (max(column.values(), default=0) + 1) * (BOX_WIDTH + COLUMN_GAP)
    height = MARGIN * 2 + max(rows.values(), default=1) * (BOX_HEIGHT + ROW_GAP) + 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-labelledby="workflow-heading" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" class="workflow">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#333"/></marker></defs>',
    ]
    for source, target, guarded in edges(workflow):
        parts.append(_arrow(place[source], place[target], column, source, target, guarded))
    for status, (x, y) in place.items():
        count = counts.get(status, 0)
        parts.append(
            f'<g class="status"><rect x="{x}" y="{y}" width="{BOX_WIDTH}" '
            f'height="{BOX_HEIGHT}" rx="10" fill="#fff" stroke="#333" stroke-width="1.5"/>'
            f'<text x="{x + BOX_WIDTH / 2}" y="{y + 22}" text-anchor="middle" '
            f'font-weight="bold" font-size="15">{escape(status)}</text>'
            f'<text x="{x + BOX_WIDTH / 2}" y="{y + 41}" text-anchor="middle" '
            f'font-size="13">{escape(label(status, count).split(chr(10))[1])}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _arrow(
    start: tuple[int, int],
    end: tuple[int, int],
    column: Mapping[str, int],
    source: str,
    target: str,
    guarded: bool,
) -> str:
    (x1, y1), (x2, y2) = start, end
    dash = ' stroke-dasharray="6 4"' if guarded else ""
    title = f"<title>{escape(source)} to {escape(target)}{' (guarded)' if guarded else ''}</title>"
    if column[target] > column[source]:
        path = f"M{x1 + BOX_WIDTH},{y1 + BOX_HEIGHT / 2} L{x2},{y2 + BOX_HEIGHT / 2}"
    else:
        # Back (or within a column): a curve under the boxes, from bottom to bottom.
        low = max(y1, y2) + BOX_HEIGHT + 40
        path = (
            f"M{x1 + BOX_WIDTH / 2 - 10},{y1 + BOX_HEIGHT} "
            f"C{x1 + BOX_WIDTH / 2 - 10},{low} {x2 + BOX_WIDTH / 2 + 10},{low} "
            f"{x2 + BOX_WIDTH / 2 + 10},{y2 + BOX_HEIGHT}"
        )
    return (
        f'<path d="{path}" fill="none" stroke="#333" stroke-width="1.5"{dash} '
        f'marker-end="url(#arrow)">{title}</path>'
    )
