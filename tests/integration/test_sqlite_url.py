"""Which SQLite file a database URL names, and that serving with no URL needs no setup."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from taskflow_cli.main import cli
from taskflow_compose import load_flow, store_from_url
from taskflow_sqlite import SqliteStore, migrations


def sqlite_path(url: str | None) -> str:
    store = store_from_url(url)
    assert isinstance(store, SqliteStore)
    store.close()
    return store.path


class TestStoreFromUrl:
    def test_three_slashes_name_a_path_relative_to_the_working_directory(self) -> None:
        assert sqlite_path("sqlite:///rel.db") == "rel.db"
        assert sqlite_path("sqlite:///data/rel.db") == "data/rel.db"

    def test_four_slashes_name_an_absolute_path(self) -> None:
        assert sqlite_path("sqlite:////abs/dir/x.db") == "/abs/dir/x.db"

    def test_no_url_is_taskflow_db_in_the_working_directory(self) -> None:
        assert sqlite_path(None) == "taskflow.db"

    @pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite:///:memory:"])
    def test_a_url_without_a_file_is_refused(self, url: str) -> None:
        with pytest.raises(ValueError, match="path"):
            store_from_url(url)


class TestZeroSetup:
    def test_a_plain_flow_with_no_url_works_on_a_new_taskflow_db(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        flow = load_flow(None, None)
        case = flow.create({"hello": "world"})
        assert flow.get(case["id"])["data"] == {"hello": "world"}
        flow.store.close()
        assert (tmp_path / "taskflow.db").is_file()

    def test_cli_migrate_applies_once_then_reports_up_to_date(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'cli.db'}"
        runner = CliRunner()

        first = runner.invoke(cli, ["migrate", "--dsn", url])
        again = runner.invoke(cli, ["migrate", "--dsn", url])

        applied = "".join(f"applied {name}\n" for name, _ in migrations.available())
        assert (first.exit_code, first.output) == (0, applied)
        assert (again.exit_code, again.output) == (0, "database is up to date\n")

    def test_cli_migrate_into_a_missing_directory_fails_in_one_line(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'missing' / 'x.db'}"
        result = CliRunner().invoke(cli, ["migrate", "--dsn", url])
        assert result.exit_code != 0
        assert "Traceback" not in result.output
        assert "unable to open database file" in result.output
