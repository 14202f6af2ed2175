"""``taskflow graph``: the declared workflow as Mermaid or DOT, and exit 1 with none declared."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from taskflow_cli.main import cli

LICENCE = "docs.examples.licence:licence_flow"
DOCS = Path(__file__).resolve().parents[2] / "docs"

LICENCE_MERMAID = """\
stateDiagram-v2
    new --> submitted
    submitted --> approved: guarded
    submitted --> rejected
    submitted --> returned
    returned --> submitted
    approved --> expired: guarded
    approved --> withdrawn
    expired --> withdrawn
    new --> withdrawn
    rejected --> withdrawn
    returned --> withdrawn
    submitted --> withdrawn
"""

LICENCE_DOT = """\
digraph workflow {
    rankdir=LR;
    node [shape=box, style=rounded];
    "new";
    "submitted";
    "approved";
    "rejected";
    "returned";
    "expired";
    "withdrawn";
    "new" -> "submitted";
    "submitted" -> "approved" [label="guarded", style=dashed];
    "submitted" -> "rejected";
    "submitted" -> "returned";
    "returned" -> "submitted";
    "approved" -> "expired" [label="guarded", style=dashed];
    "approved" -> "withdrawn";
    "expired" -> "withdrawn";
    "new" -> "withdrawn";
    "rejected" -> "withdrawn";
    "returned" -> "withdrawn";
    "submitted" -> "withdrawn";
}
"""

HOST_MODULE = """
from taskflow_core import Taskflow
from taskflow_core.memory import MemoryStore

plain = Taskflow(MemoryStore())
hyphens = (
    Taskflow(MemoryStore())
    .transition("new", "in-review")
    .transition("in-review", "sent-back", guard=lambda case, user: True)
    .transition("*", "closed")
    .transition("in-review", "closed", guard=lambda case, user: True)
)
only_star = Taskflow(MemoryStore()).transition("*", "closed")
"""


@pytest.fixture
def in_empty_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty working directory holding the host module ``host_flows``; no TASKFLOW_APP."""
    monkeypatch.delenv("TASKFLOW_APP", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "host_flows.py").write_text(HOST_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def graph(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(cli, ["graph", *args], env=env)


class TestTheDocsExample:
    def test_default_is_a_mermaid_state_diagram(self, in_empty_directory: Path) -> None:
        result = graph("--app", LICENCE)

        assert result.exit_code == 0, result.output
        assert result.stdout == LICENCE_MERMAID
        assert result.stderr == ""

    def test_format_dot_prints_a_graphviz_digraph(self, in_empty_directory: Path) -> None:
        result = graph("--app", LICENCE, "--format", "dot")

        assert result.exit_code == 0, result.output
        assert result.stdout == LICENCE_DOT

    def test_the_app_can_come_from_taskflow_app(self, in_empty_directory: Path) -> None:
        result = graph("--format", "mermaid", env={"TASKFLOW_APP": LICENCE})

        assert result.exit_code == 0, result.output
        assert result.stdout == LICENCE_MERMAID

    def test_the_page_shows_the_mermaid_output(self) -> None:
        assert f"```mermaid\n{LICENCE_MERMAID}```" in (DOCS / "workflow.md").read_text()

    def test_the_committed_svg_draws_the_edges_of_the_dot_output(self) -> None:
        # Graphviz titles each edge "source->target": the picture on the page is the example's.
        svg = (DOCS / "licence-workflow.svg").read_text()
        drawn = re.findall(r'class="edge">\s*<title>(.*?)</title>', svg)
        declared = re.findall(r'^    "(.*?)" -> "(.*?)"', LICENCE_DOT, re.MULTILINE)

        assert sorted(html.unescape(title) for title in drawn) == sorted(
            f"{source}->{target}" for source, target in declared
        )
        assert svg.count(">guarded</text>") == 2

    def test_loading_it_touches_no_database(self, in_empty_directory: Path) -> None:
        assert graph("--app", LICENCE).exit_code == 0
        assert list(in_empty_directory.iterdir()) == [in_empty_directory / "host_flows.py"]


class TestNothingDeclared:
    def test_without_an_app_it_says_so_on_stderr_and_exits_1(
        self, in_empty_directory: Path
    ) -> None:
        result = graph()

        assert result.exit_code == 1
        assert result.stdout == ""
        assert "no transitions are declared" in result.stderr
        assert "--app" in result.stderr

    @pytest.mark.parametrize("output_format", ["mermaid", "dot"])
    def test_a_flow_without_transitions_exits_1(
        self, in_empty_directory: Path, output_format: str
    ) -> None:
        result = graph("--app", "host_flows:plain", "--format", output_format)

        assert result.exit_code == 1
        assert result.stdout == ""
        assert result.stderr == "no transitions are declared in host_flows:plain\n"


class TestDrawing:
    def test_hyphenated_statuses_get_mermaid_ids_and_keep_their_names(
        self, in_empty_directory: Path
    ) -> None:
        result = graph("--app", "host_flows:hyphens")

        assert result.exit_code == 0, result.output
        assert result.stdout == (
            "stateDiagram-v2\n"
            '    state "in-review" as in_review\n'
            '    state "sent-back" as sent_back\n'
            "    new --> in_review\n"
            "    in_review --> sent_back: guarded\n"
            "    in_review --> closed\n"
            "    new --> closed\n"
            "    sent_back --> closed\n"
        )

    def test_a_status_reached_only_from_star_is_still_a_node(
        self, in_empty_directory: Path
    ) -> None:
        result = graph("--app", "host_flows:only_star", "--format", "dot")

        assert result.exit_code == 0, result.output
        assert '    "closed";\n' in result.stdout
        assert "->" not in result.stdout

    def test_an_app_that_cannot_be_loaded_fails_in_one_line(self, in_empty_directory: Path) -> None:
        result = graph("--app", "no_such_module:flow")

        assert result.exit_code == 1
        assert result.stderr.startswith("Error: cannot load the app no_such_module:flow: ")
        assert len(result.stderr.strip().splitlines()) == 1

    def test_an_unknown_format_is_refused(self, in_empty_directory: Path) -> None:
        result = graph("--app", LICENCE, "--format", "png")

        assert result.exit_code == 2
        assert "png" in result.stderr
