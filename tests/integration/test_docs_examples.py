"""The Python examples of README.md and docs/*.md marked runnable, run as a reader pastes them.

A block is runnable when its fence says ```` ```python runnable ````: GitHub highlights it by
the first word and shows nothing of the rest. Each runnable block runs in a fresh namespace,
so it must hold its own imports, as pasted; then every ``test_*`` function it defines is
called, as pytest would. A page's blocks run in order in one temporary directory, which is the
working directory and first on ``sys.path``: a block whose first line is a comment naming a
Python file (``# myapp/workflow.py``) is also saved there first, so that later blocks import
it as they would in the reader's project. A block that needs a server or PostgreSQL stays
unmarked.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
INFO = "python runnable"
MARKER = f"```{INFO}"
# The first line of a block that is a file of the reader's project: `# myapp/workflow.py`.
FILE_COMMENT = re.compile(r"#\s*([\w./-]+\.py)\s*$")


@attrs.frozen
class Block:
    page: Path
    line: int  # of the block's first line of code, counting from 1
    source: str

    @property
    def saved_as(self) -> str | None:
        first = self.source.split("\n", 1)[0]
        match = FILE_COMMENT.fullmatch(first)
        return match.group(1) if match else None


def python_blocks(page: Path) -> list[tuple[str, Block]]:
    """Every ```` ```python ```` block of the page, with its fence's info string."""
    blocks = []
    lines = page.read_text().splitlines()
    index = 0
    while index < len(lines):
        fence = lines[index]
        index += 1
        if not fence.startswith("```python"):
            continue
        start = index
        while not lines[index].startswith("```"):
            index += 1
        source = "\n".join(lines[start:index]) + "\n"
        blocks.append((fence.removeprefix("```").strip(), Block(page, start + 1, source)))
        index += 1
    return blocks


def runnable_blocks(page: Path) -> list[Block]:
    return [block for info, block in python_blocks(page) if info == INFO]


def run_page(page: Path, directory: Path) -> None:
    """Run the page's runnable blocks in order, as the module docstring says."""
    for block in runnable_blocks(page):
        filename = str(page)
        if block.saved_as:
            saved = directory / block.saved_as
            saved.parent.mkdir(parents=True, exist_ok=True)
            saved.write_text(block.source)
        # Blank lines before the code, so that a traceback names the page's own line.
        code = compile("\n" * (block.line - 1) + block.source, filename, "exec")
        namespace: dict[str, object] = {"__name__": f"example_{page.stem}_{block.line}"}
        exec(code, namespace)
        for name, value in list(namespace.items()):
            if name.startswith("test_") and callable(value):
                value()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty directory to work in, as a reader's project, with nothing configured."""
    for name in ("TASKFLOW_DATABASE_URL", "TASKFLOW_APP", "TASKFLOW_POOL_SIZE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    # The reader's modules (myapp...) are the page's alone: the next page saves its own.
    for name, module in list(sys.modules.items()):
        places = [getattr(module, "__file__", None), *getattr(module, "__path__", [])]
        if any(place and Path(place).is_relative_to(tmp_path) for place in places):
            del sys.modules[name]


@pytest.mark.parametrize(
    "page", [page for page in PAGES if runnable_blocks(page)], ids=lambda page: page.name
)
def test_the_runnable_examples_of_the_page_run_as_pasted(page: Path, project: Path) -> None:
    run_page(page, project)


def test_readmes_python_api_and_hook_testing_examples_are_runnable() -> None:
    readme = (ROOT / "README.md").read_text()
    for section in ("## Using it from Python", "### Testing your own hooks"):
        after = readme[readme.index(section) :]
        next_heading = after.find("\n#", len(section))
        assert MARKER in after[:next_heading], f"{section} has no runnable example"


def test_every_python_example_of_the_hosting_page_is_runnable() -> None:
    blocks = python_blocks(ROOT / "docs" / "hosting.md")

    assert blocks
    assert [info for info, _ in blocks] == [INFO] * len(blocks)


class TestTheRunner:
    def test_a_failing_test_in_a_block_fails_the_page(self, project: Path) -> None:
        page = project / "page.md"
        page.write_text(f"{MARKER}\ndef test_fails():\n    assert 1 == 2\n```\n")

        with pytest.raises(AssertionError):
            run_page(page, project)

    def test_each_block_runs_without_the_names_of_the_blocks_before(self, project: Path) -> None:
        page = project / "page.md"
        page.write_text(f"{MARKER}\nimport json\n```\n\n{MARKER}\njson.dumps(1)\n```\n")

        with pytest.raises(NameError):
            run_page(page, project)

    def test_a_block_naming_a_file_is_importable_by_the_blocks_after(self, project: Path) -> None:
        page = project / "page.md"
        page.write_text(
            f"{MARKER}\n# shop/prices.py\nVAT = 20\n```\n\n"
            f"{MARKER}\nfrom shop.prices import VAT\n\ndef test_vat():\n    assert VAT == 21\n```\n"
        )

        with pytest.raises(AssertionError):
            run_page(page, project)
        assert (project / "shop" / "prices.py").read_text() == "# shop/prices.py\nVAT = 20\n"

    def test_unmarked_blocks_are_not_run(self, project: Path) -> None:
        page = project / "page.md"
        page.write_text("```python\nraise SystemExit('ran')\n```\n")

        run_page(page, project)

    def test_a_traceback_names_the_pages_own_line(self, project: Path) -> None:
        page = project / "page.md"
        page.write_text(f'# Title\n\n{MARKER}\nx = 1\nraise ValueError("on line 5")\n```\n')

        with pytest.raises(ValueError, match="on line 5") as raised:
            run_page(page, project)
        assert raised.traceback[-1].lineno + 1 == 5
