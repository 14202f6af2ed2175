"""What ``taskflow serve``, ``timers`` and ``graph`` say when they cannot start: one line
naming what is wrong, exit status 1, before gunicorn starts."""

from __future__ import annotations

import socket
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result
from psycopg import sql

from taskflow_cli import serve as serve_module
from taskflow_cli.main import cli
from taskflow_core import Taskflow
from taskflow_postgres import PostgresStore
from taskflow_sqlite import SqliteStore

ENV_KEYS = (
    "TASKFLOW_DATABASE_URL",
    "TASKFLOW_APP",
    "TASKFLOW_POOL_SIZE",
    "TASKFLOW_HEADER_TIMEOUT",
    "TASKFLOW_BODY_TIMEOUT",
    # What names a PostgreSQL server to every command when nothing else names a database.
    "PGHOST",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGDATABASE",
    "PGSERVICE",
)


@pytest.fixture
def directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty working directory, importable, with nothing configured."""
    for key in ENV_KEYS:
        # serve sets these in this very process, for its workers. Setting first makes the
        # undo remove what was not there before: delenv alone records nothing for it.
        monkeypatch.setenv(key, "")
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    # Also restores sys.path afterwards, which the commands extend with the directory.
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch, directory: Path) -> list[dict[str, object]]:
    """The options of each gunicorn that `serve` started (none is, for real)."""
    runs: list[dict[str, object]] = []
    monkeypatch.setattr(serve_module.TaskflowServer, "run", lambda self: runs.append(self.options))
    return runs


def assert_one_line_error(result: Result, start: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"Error: {start}"), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output


FAULTY_MODULES = {
    "raises": ('import os\n\nflow = os.environ["NO_SUCH_VARIABLE_HERE"]\n', "KeyError: "),
    "has_a_syntax_error": ("def configure(flow:\n    return flow\n", "SyntaxError: "),
    "imports_what_is_missing": ("import no_such_package_here\n", "ModuleNotFoundError: "),
}
COMMANDS = {
    "serve": ["serve", "--port", "0"],
    "timers": ["timers", "--once"],
    "graph": ["graph"],
}


class TestAnAppThatCannotBeLoaded:
    @pytest.mark.parametrize("fault", sorted(FAULTY_MODULES))
    @pytest.mark.parametrize("command", sorted(COMMANDS))
    def test_is_one_line_naming_the_module_and_the_error(
        self, started: list[dict[str, object]], directory: Path, command: str, fault: str
    ) -> None:
        module = f"host_that_{fault}_for_{command}"
        source, error = FAULTY_MODULES[fault]
        (directory / f"{module}.py").write_text(source)

        result = CliRunner().invoke(cli, [*COMMANDS[command], "--app", f"{module}:flow"])

        assert_one_line_error(result, f"cannot load the app {module}:flow: {error}")
        assert started == []

    def test_the_line_of_the_module_that_raised_is_named(self, directory: Path) -> None:
        (directory / "host_raising.py").write_text('import json\n\nflow = json.loads("{")\n')

        result = CliRunner().invoke(cli, ["graph", "--app", "host_raising:flow"])

        assert_one_line_error(result, "cannot load the app host_raising:flow: JSONDecodeError:")
        assert result.stderr.rstrip().endswith("(host_raising.py, line 3)")

    def test_a_name_the_module_lacks_is_one_line(self, directory: Path) -> None:
        (directory / "host_without_flow.py").write_text("x = 1\n")

        result = CliRunner().invoke(cli, ["timers", "--once", "--app", "host_without_flow:flow"])

        assert_one_line_error(
            result,
            "cannot load the app host_without_flow:flow: AttributeError: "
            "module 'host_without_flow' has no attribute 'flow'",
        )

    def test_the_environments_app_is_named_too(
        self, started: list[dict[str, object]], directory: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        (directory / "host_from_env.py").write_text("raise RuntimeError('no config')\n")
        monkeypatch.setenv("TASKFLOW_APP", "host_from_env:flow")

        result = CliRunner().invoke(cli, ["serve", "--port", "0"])

        assert_one_line_error(
            result, "cannot load the app host_from_env:flow: RuntimeError: no config"
        )


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port something else listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


class TestAnAddressThatCannotBeBound:
    def test_a_port_in_use_is_one_line_and_gunicorn_never_starts(
        self, started: list[dict[str, object]], taken_port: int, directory: Path
    ) -> None:
        result = CliRunner().invoke(cli, ["serve", "--port", str(taken_port)])

        assert_one_line_error(
            result,
            f"cannot listen on 127.0.0.1:{taken_port}: the port is already in use;"
            " choose another with --port",
        )
        assert started == []
        # Found before anything was migrated: no database was made for a server never started.
        assert not (directory / "taskflow.db").exists()

    def test_an_address_of_no_interface_here_is_one_line(
        self, started: list[dict[str, object]]
    ) -> None:
        # 192.0.2.0/24 is reserved for documentation: no machine has it.
        result = CliRunner().invoke(cli, ["serve", "--host", "192.0.2.1", "--port", "8000"])

        assert_one_line_error(result, "cannot listen on 192.0.2.1:8000: ")
        assert started == []

    def test_a_free_port_starts_gunicorn_on_it(self, started: list[dict[str, object]]) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]

        result = CliRunner().invoke(cli, ["serve", "--port", str(port)])

        assert result.exit_code == 0, result.output
        assert [run["bind"] for run in started] == [f"127.0.0.1:{port}"]


class TestADatabaseThatCannotServe:
    def test_with_no_migrate_an_unreachable_database_is_one_line(
        self, started: list[dict[str, object]]
    ) -> None:
        dsn = "postgresql://postgres@127.0.0.1:1/x?connect_timeout=2"

        result = CliRunner().invoke(cli, ["serve", "--no-migrate", "--port", "0", "--dsn", dsn])

        assert_one_line_error(result, "cannot connect to the database: ")
        assert "Connection refused" in result.stderr
        assert started == []

    @pytest.mark.postgres
    def test_with_no_migrate_a_database_without_the_schema_says_to_migrate(
        self, started: list[dict[str, object]], postgres_empty_dsn: str
    ) -> None:
        args = ["serve", "--no-migrate", "--port", "0", "--dsn", postgres_empty_dsn]

        result = CliRunner().invoke(cli, args)

        assert_one_line_error(result, "postgresql://")
        assert "has no taskflow schema: run `taskflow migrate` first" in result.stderr
        assert started == []

    @pytest.mark.postgres
    def test_with_no_migrate_a_migrated_database_is_served(
        self, started: list[dict[str, object]], postgres_store: PostgresStore, postgres_dsn: str
    ) -> None:
        args = ["serve", "--no-migrate", "--port", "0", "--dsn", postgres_dsn]

        result = CliRunner().invoke(cli, args)

        assert result.exit_code == 0, result.output
        assert len(started) == 1

    @pytest.mark.postgres
    def test_with_no_migrate_a_hosts_flow_is_checked_on_its_own_store(
        self, started: list[dict[str, object]], directory: Path, postgres_empty_dsn: str
    ) -> None:
        (directory / "host_on_postgres.py").write_text(
            "from taskflow_core import Taskflow\n"
            "from taskflow_postgres import PostgresStore\n"
            f"flow = Taskflow(PostgresStore({postgres_empty_dsn!r}))\n"
        )

        result = CliRunner().invoke(
            cli, ["serve", "--no-migrate", "--port", "0", "--app", "host_on_postgres:flow"]
        )
        sys.modules.pop("host_on_postgres").flow.store.close()

        assert_one_line_error(result, "postgresql://")
        assert "has no taskflow schema" in result.stderr

    @pytest.mark.postgres
    def test_serving_creates_a_database_that_does_not_exist_as_migrate_does(
        self, started: list[dict[str, object]], postgres_dsn: str
    ) -> None:
        missing = f"{postgres_dsn}_by_serve"
        name = missing.rsplit("/", 1)[1]
        try:
            result = CliRunner().invoke(cli, ["serve", "--port", "0", "--dsn", missing])

            assert result.exit_code == 0, result.output
            assert f"created database {name}\n" in result.stdout
            assert len(started) == 1
        finally:
            with psycopg.connect(postgres_dsn, autocommit=True) as conn:
                drop = sql.SQL("drop database if exists {} with (force)")
                conn.execute(drop.format(sql.Identifier(name)))


class TestHelp:
    def test_serve_host_is_the_address_to_listen_on_not_the_databases(self) -> None:
        result = CliRunner().invoke(cli, ["serve", "--help"], terminal_width=200)

        assert result.exit_code == 0
        assert "The address to listen on" in result.output
        assert "the database's host is in --dsn" in result.output

    def test_migrate_host_is_the_postgresql_servers_not_an_address_to_listen_on(self) -> None:
        result = CliRunner().invoke(cli, ["migrate", "--help"], terminal_width=200)

        assert result.exit_code == 0
        assert "The PostgreSQL server's host" in result.output
        assert "not an address to listen on: that is `serve --host`" in result.output


class TestThePgVariables:
    """One rule for every command: --dsn, else $TASKFLOW_DATABASE_URL, else the PostgreSQL
    server the PG* variables name, else the SQLite file."""

    @staticmethod
    def name_in_pg_variables(monkeypatch: pytest.MonkeyPatch, dsn: str) -> None:
        parts = psycopg.conninfo.conninfo_to_dict(dsn)
        for key in ("host", "port", "user", "dbname", "password"):
            if parts.get(key):
                variable = "PGDATABASE" if key == "dbname" else f"PG{key.upper()}"
                monkeypatch.setenv(variable, str(parts[key]))

    @pytest.mark.postgres
    def test_serve_checks_the_database_they_name(
        self,
        started: list[dict[str, object]],
        directory: Path,
        monkeypatch: pytest.MonkeyPatch,
        postgres_empty_dsn: str,
    ) -> None:
        self.name_in_pg_variables(monkeypatch, postgres_empty_dsn)

        result = CliRunner().invoke(cli, ["serve", "--no-migrate", "--port", "0"])

        assert_one_line_error(result, "postgresql://")
        assert "has no taskflow schema: run `taskflow migrate` first" in result.stderr
        assert not (directory / "taskflow.db").exists()
        assert started == []

    @pytest.mark.postgres
    def test_timers_fire_on_the_database_they_name(
        self, directory: Path, monkeypatch: pytest.MonkeyPatch, postgres_dsn: str
    ) -> None:
        self.name_in_pg_variables(monkeypatch, postgres_dsn)

        result = CliRunner().invoke(cli, ["timers", "--once"])

        assert result.exit_code == 0, result.output
        assert not (directory / "taskflow.db").exists()


HOST_READING_ITS_DATABASE_FROM_THE_ENVIRONMENT = """
from taskflow_compose import database_url, store_from_url
from taskflow_core import Taskflow

flow = Taskflow(store_from_url(database_url()))
"""


@pytest.mark.postgres
def test_timers_give_a_host_module_the_database_they_name(
    directory: Path, postgres_dsn: str
) -> None:
    """A host module builds its store from the environment (benchmarks/deadlines_app.py does),
    as under ``serve``'s workers: ``timers --dsn`` is the database it finds there, not the
    default SQLite file."""
    (directory / "host_from_env.py").write_text(HOST_READING_ITS_DATABASE_FROM_THE_ENVIRONMENT)
    store = PostgresStore(postgres_dsn)
    case_id = Taskflow(store).create({"subject": "x"})["id"]
    store.close()
    with psycopg.connect(postgres_dsn) as conn:
        conn.execute(
            "INSERT INTO timers (case_id, name, due, fire_at)"
            " VALUES (%s, 'ping', now() - interval '1 minute', now() - interval '1 minute')",
            (case_id,),
        )

    args = ["timers", "--once", "--app", "host_from_env:flow", "--dsn", postgres_dsn]
    result = CliRunner().invoke(cli, args)

    assert result.exit_code == 0, result.output
    assert result.output == "fired 1 timer(s)\n"
    assert not (directory / "taskflow.db").exists()


class TestNoSilentSqliteFile:
    """A SQLite path that names no database is an error where a command only checks or works
    on a database: a typo must not become a new, empty one."""

    def test_serve_no_migrate_on_a_missing_file_creates_nothing(
        self, started: list[dict[str, object]], directory: Path
    ) -> None:
        args = ["serve", "--no-migrate", "--port", "0", "--dsn", "sqlite:///empty.db"]

        result = CliRunner().invoke(cli, args)

        assert_one_line_error(result, "the SQLite file ./empty.db does not exist")
        assert "run `taskflow migrate` to create it" in result.stderr
        assert not (directory / "empty.db").exists()
        assert started == []

    def test_serve_no_migrate_on_a_file_without_the_schema_migrates_nothing(
        self, started: list[dict[str, object]], directory: Path
    ) -> None:
        sqlite3.connect(directory / "blank.db").close()
        args = ["serve", "--no-migrate", "--port", "0", "--dsn", "sqlite:///blank.db"]

        result = CliRunner().invoke(cli, args)

        assert_one_line_error(result, "the SQLite file ./blank.db has no taskflow schema")
        tables = sqlite3.connect(directory / "blank.db").execute("SELECT name FROM sqlite_master")
        assert tables.fetchall() == []
        assert started == []

    def test_timers_on_a_missing_file_fail_instead_of_firing_nothing(self, directory: Path) -> None:
        result = CliRunner().invoke(cli, ["timers", "--once", "--dsn", "sqlite:///typo.db"])

        assert_one_line_error(result, "the SQLite file ./typo.db does not exist")
        assert "fired" not in result.output
        assert not (directory / "typo.db").exists()

    def test_a_relative_path_that_exists_as_an_absolute_one_gets_a_hint(
        self, directory: Path, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        real = tmp_path_factory.mktemp("elsewhere") / "x.db"
        store = SqliteStore(real)
        store.migrate()
        store.close()
        relative = str(real).lstrip("/")

        result = CliRunner().invoke(cli, ["timers", "--once", "--dsn", f"sqlite:///{relative}"])

        assert_one_line_error(result, f"the SQLite file ./{relative} does not exist")
        assert f"did you mean the absolute path, sqlite:////{relative}?" in result.stderr

    @pytest.mark.postgres
    def test_timers_on_a_database_without_the_schema_fail_in_one_line(
        self, directory: Path, postgres_empty_dsn: str
    ) -> None:
        result = CliRunner().invoke(cli, ["timers", "--once", "--dsn", postgres_empty_dsn])

        assert_one_line_error(result, "postgresql://")
        assert "has no taskflow schema: run `taskflow migrate` first" in result.stderr
        assert "LINE" not in result.output


class TestAPruneSchedule:
    def test_prune_every_alone_is_a_usage_error(self, started: list[dict[str, object]]) -> None:
        result = CliRunner().invoke(cli, ["serve", "--port", "0", "--prune-every", "1h"])

        assert result.exit_code == 2
        assert "--prune-every needs --prune-older-than" in result.output
        assert started == []

    def test_an_age_it_cannot_read_is_a_usage_error(self, started: list[dict[str, object]]) -> None:
        result = CliRunner().invoke(cli, ["serve", "--port", "0", "--prune-older-than", "1w"])

        assert result.exit_code == 2
        assert "is not an age such as 30d, 12h, 90m or 45s" in result.output
        assert started == []

    def test_the_environment_asks_for_it_too(
        self, started: list[dict[str, object]], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("TASKFLOW_PRUNE_OLDER_THAN", "30d")
        monkeypatch.setenv("TASKFLOW_PRUNE_EVERY", "2h")

        result = CliRunner().invoke(cli, ["serve", "--port", "0"])

        assert result.exit_code == 0, result.output
        assert "pruning what is older than 30d every 2h, from one worker at a time" in (
            result.output
        )
        assert len(started) == 1
