"""``taskflow migrate``: where it connects, what it prints, and how it fails (one line, exit 1)."""

import socket
import struct
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from taskflow_cli.main import cli
from taskflow_postgres.migrate import available

pytestmark = pytest.mark.postgres

ALL_APPLIED = [f"applied {migration.name}" for migration in available()]
# The console script installed beside this interpreter, as a user runs it.
TASKFLOW = str(Path(sys.executable).parent / "taskflow")
# Nothing of the developer's own environment may leak into what a test configures.
CLEAN_ENV = dict.fromkeys(
    ["TASKFLOW_DATABASE_URL", "PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"]
)


def migrate(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["migrate", *args], env={**CLEAN_ENV, **(env or {})})


def after_the_database(output: str) -> list[str]:
    """The lines after the first, which says which database is migrated."""
    first, *rest = output.splitlines()
    assert first.startswith("migrating "), output
    return rest


def assert_fails_with_one_line(result: Result, reason: str) -> None:
    assert result.exit_code == 1, result.output
    assert after_the_database(result.stdout) == []
    assert result.stderr.count("\n") == 1, result.stderr
    assert reason in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.fixture
def parts(postgres_empty_dsn: str) -> dict[str, str]:
    return conninfo_to_dict(postgres_empty_dsn)  # type: ignore[return-value]


@pytest.fixture
def role_with_password(postgres_empty_dsn: str) -> Iterator[str]:
    """A role that may log in with the password "right-password"; its name."""
    name = f"taskflow_pw_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_empty_dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("create role {} login password 'right-password'").format(sql.Identifier(name))
        )
    yield name
    with psycopg.connect(postgres_empty_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("drop role {}").format(sql.Identifier(name)))


class PasswordRefusingServer:
    """Just enough of PostgreSQL's wire protocol to ask for a password and refuse it.

    The test server trusts local connections (pg_hba.conf), so it never refuses a password;
    this stands in for one that does, and records the password it was sent.
    """

    def __init__(self) -> None:
        self.passwords: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # closed
            with conn:
                self._refuse(conn)

    def _refuse(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        while True:
            length, code = struct.unpack("!ii", reader.read(8))
            reader.read(length - 8)
            if code not in (80877103, 80877104):  # SSL and GSS encryption requests
                break  # the startup message
            conn.sendall(b"N")  # no encryption: go on in plain text
        conn.sendall(b"R" + struct.pack("!ii", 8, 3))  # cleartext password, please
        assert reader.read(1) == b"p"
        (length,) = struct.unpack("!i", reader.read(4))
        self.passwords.append(reader.read(length - 4).rstrip(b"\0").decode())
        fields = b'SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user "alice"\0\0'
        conn.sendall(b"E" + struct.pack("!i", 4 + len(fields)) + fields)

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def password_refusing_server() -> Iterator[PasswordRefusingServer]:
    server = PasswordRefusingServer()
    yield server
    server.close()


class TestSuccess:
    def test_prints_each_applied_migration_then_that_the_database_is_up_to_date(
        self, postgres_empty_dsn: str
    ) -> None:
        first = migrate("--dsn", postgres_empty_dsn)
        second = migrate("--dsn", postgres_empty_dsn)

        assert (first.exit_code, after_the_database(first.output)) == (0, ALL_APPLIED)
        assert (second.exit_code, after_the_database(second.output)) == (
            0,
            ["database is up to date"],
        )

    def test_the_originals_options_alone_name_the_database(self, parts: dict[str, str]) -> None:
        password = ["--password", parts["password"]] if "password" in parts else []
        result = migrate(
            "--host", parts["host"], "--port", parts["port"],
            "--user", parts["user"], "--database", parts["dbname"], *password,
        )  # fmt: skip
        assert (result.exit_code, after_the_database(result.output)) == (0, ALL_APPLIED)

    def test_an_option_overrides_the_same_part_of_the_dsn(
        self, postgres_empty_dsn: str, parts: dict[str, str]
    ) -> None:
        wrong_port = postgres_empty_dsn.replace(f":{parts['port']}/", ":1/")
        result = migrate("--dsn", wrong_port, "--port", parts["port"])
        assert (result.exit_code, after_the_database(result.output)) == (0, ALL_APPLIED)

    def test_the_dsn_can_come_from_taskflow_database_url(self, postgres_empty_dsn: str) -> None:
        result = migrate(env={"TASKFLOW_DATABASE_URL": postgres_empty_dsn})
        assert (result.exit_code, after_the_database(result.output)) == (0, ALL_APPLIED)

    def test_the_dsn_option_overrides_taskflow_database_url(self, postgres_empty_dsn: str) -> None:
        env = {"TASKFLOW_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nothing"}
        result = migrate("--dsn", postgres_empty_dsn, env=env)
        assert (result.exit_code, after_the_database(result.output)) == (0, ALL_APPLIED)

    def test_the_pg_variables_name_the_database(self, parts: dict[str, str]) -> None:
        env = {
            "PGHOST": parts["host"],
            "PGPORT": parts["port"],
            "PGUSER": parts["user"],
            "PGDATABASE": parts["dbname"],
            **({"PGPASSWORD": parts["password"]} if "password" in parts else {}),
        }
        result = migrate(env=env)
        assert (result.exit_code, after_the_database(result.output)) == (0, ALL_APPLIED)

    def test_the_dsn_overrides_the_pg_variables(self, postgres_empty_dsn: str) -> None:
        env = {"PGPORT": "1", "PGDATABASE": "nothing"}
        result = migrate("--dsn", postgres_empty_dsn, env=env)
        assert (result.exit_code, after_the_database(result.output)) == (0, ALL_APPLIED)

    def test_a_sqlite_dsn_migrates_that_file(self, tmp_path: Path) -> None:
        path = tmp_path / "embedded.db"
        result = migrate("--dsn", f"sqlite:///{path}")
        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[:2] == [
            f"migrating the SQLite file {path}",
            "applied 0001_initial",
        ]
        assert path.exists()

    def test_with_nothing_configured_it_migrates_the_embedded_sqlite_file(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        result = migrate()
        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[0] == (
            "migrating the SQLite file ./taskflow.db"
            " (the default: no --dsn, $TASKFLOW_DATABASE_URL or PG* variable names one)"
        )
        assert (tmp_path / "taskflow.db").exists()

    def test_says_which_postgresql_database_it_migrates_without_the_password(
        self, parts: dict[str, str]
    ) -> None:
        where = f"{parts['host']}:{parts['port']}/{parts['dbname']}"
        result = migrate("--dsn", f"postgresql://{parts['user']}:s3cret-pw@{where}")

        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[0] == f"migrating postgresql://{parts['user']}@{where}"
        assert "s3cret-pw" not in result.output

    def test_the_pg_variables_database_is_named_as_libpq_resolves_it(
        self, parts: dict[str, str]
    ) -> None:
        env = {"PGHOST": parts["host"], "PGPORT": parts["port"], "PGUSER": parts["user"]}
        result = migrate("--database", parts["dbname"], env=env)

        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[0] == (
            f"migrating postgresql://{parts['user']}@{parts['host']}:{parts['port']}"
            f"/{parts['dbname']}"
        )


@pytest.fixture
def missing_database(postgres_empty_dsn: str, parts: dict[str, str]) -> Iterator[str]:
    """The URL of a database that does not exist on the test's server; dropped afterwards."""
    name = f"taskflow_created_{uuid.uuid4().hex[:10]}"
    yield f"postgresql://{parts['user']}@{parts['host']}:{parts['port']}/{name}"
    with psycopg.connect(postgres_empty_dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        )


class TestADatabaseThatDoesNotExist:
    def test_is_created_then_migrated_saying_so(self, missing_database: str) -> None:
        name = missing_database.rsplit("/", 1)[1]

        result = migrate("--dsn", missing_database)

        assert result.exit_code == 0, result.output
        assert result.output.splitlines() == [
            f"migrating {missing_database}",
            f"created database {name}",
            *ALL_APPLIED,
        ]
        with psycopg.connect(missing_database) as conn:
            versions = conn.execute("select count(*) from taskflow_migrations").fetchone()
        assert versions == (len(ALL_APPLIED),)

    def test_is_created_once_then_found(self, missing_database: str) -> None:
        migrate("--dsn", missing_database)

        again = migrate("--dsn", missing_database)

        assert (again.exit_code, after_the_database(again.output)) == (
            0,
            ["database is up to date"],
        )

    def test_a_role_that_may_not_create_databases_is_told_in_one_line(
        self, missing_database: str, role_with_password: str, parts: dict[str, str]
    ) -> None:
        result = migrate("--dsn", missing_database, "--user", role_with_password)

        assert_fails_with_one_line(result, "permission denied to create database")
        with psycopg.connect(**parts) as conn:  # type: ignore[arg-type]
            name = missing_database.rsplit("/", 1)[1]
            found = conn.execute("select 1 from pg_database where datname = %s", (name,))
            assert found.fetchone() is None


class TestFailure:
    def test_an_unreachable_server_is_one_line_and_exit_1(self) -> None:
        result = migrate("--host", "127.0.0.1", "--port", "1", "--user", "x", "--database", "x")
        assert_fails_with_one_line(result, "cannot connect to the database")
        assert "Connection refused" in result.stderr

    def test_a_refused_password_is_one_line_and_exit_1(
        self, password_refusing_server: PasswordRefusingServer
    ) -> None:
        port = str(password_refusing_server.port)
        result = migrate(
            "--host", "127.0.0.1", "--port", port,
            "--user", "alice", "--password", "wrong-password", "--database", "x",
        )  # fmt: skip
        assert_fails_with_one_line(result, 'password authentication failed for user "alice"')
        assert password_refusing_server.passwords == ["wrong-password"]

    def test_a_wrong_password_is_refused_by_a_server_that_checks_them(
        self, parts: dict[str, str], role_with_password: str
    ) -> None:
        wrong = dict(parts, user=role_with_password, password="wrong-password")
        try:
            psycopg.connect(**wrong).close()  # type: ignore[arg-type]
        except psycopg.OperationalError:
            pass
        else:
            pytest.skip("this server trusts the test's connections (pg_hba.conf: trust)")
        result = migrate(
            "--dsn", f"postgresql://{role_with_password}@{parts['host']}:{parts['port']}/postgres",
            "--password", "wrong-password",
        )  # fmt: skip
        assert_fails_with_one_line(result, "password authentication failed")

    def test_an_unknown_role_is_one_line_and_exit_1(self, postgres_empty_dsn: str) -> None:
        result = migrate("--dsn", postgres_empty_dsn, "--user", "no_such_role_here")
        # A server that checks passwords does not say whether the role exists.
        assert_fails_with_one_line(result, '"no_such_role_here"')

    def test_a_failing_migration_is_named_in_one_line_and_exit_1(
        self, postgres_empty_dsn: str
    ) -> None:
        # A foreign `cases` table whose data is text: the JSON index cannot be built on it.
        with psycopg.connect(postgres_empty_dsn, autocommit=True) as conn:
            conn.execute(
                "create table cases (id uuid primary key, status text, data text,"
                " created_at timestamptz, updated_at timestamptz, assigned_to text)"
            )
        result = migrate("--dsn", postgres_empty_dsn)

        assert_fails_with_one_line(result, "migration 0003_list_indexes failed")
        with psycopg.connect(postgres_empty_dsn) as conn:
            versions = conn.execute("select version from taskflow_migrations order by 1")
            assert versions.fetchall() == [(1,), (2,)]
            assert conn.execute("select to_regclass('cases_status_id_index')").fetchone() == (None,)

    @pytest.mark.parametrize("url", ["mysql://db/x", "postgresql://db/x?nosuchoption=1"])
    def test_a_malformed_url_is_a_usage_error(self, url: str) -> None:
        result = migrate("--dsn", url)
        assert result.exit_code == 2
        assert "Traceback" not in result.output

    def test_postgres_options_with_a_sqlite_dsn_are_a_usage_error(self, tmp_path: Path) -> None:
        result = migrate("--dsn", f"sqlite:///{tmp_path / 'x.db'}", "--host", "db")
        assert result.exit_code == 2
        assert "--host applies to PostgreSQL" in result.stderr


class TestAsARealProcess:
    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {"PATH": "/usr/bin:/bin"}
        return subprocess.run(
            [TASKFLOW, "migrate", *args], capture_output=True, text=True, env=env, timeout=60
        )

    def test_migrates_then_reports_up_to_date(self, postgres_empty_dsn: str) -> None:
        first = self.run("--dsn", postgres_empty_dsn)
        second = self.run("--dsn", postgres_empty_dsn)
        assert (first.returncode, after_the_database(first.stdout)) == (0, ALL_APPLIED)
        assert (second.returncode, after_the_database(second.stdout)) == (
            0,
            ["database is up to date"],
        )

    def test_an_unreachable_server_exits_1_with_one_line_and_no_traceback(self) -> None:
        done = self.run("--dsn", "postgresql://x@127.0.0.1:1/x")
        assert done.returncode == 1
        assert done.stderr.count("\n") == 1
        assert done.stderr.startswith("Error: cannot connect to the database:")

    def test_two_processes_migrating_at_once_both_succeed(self, postgres_empty_dsn: str) -> None:
        env = {"PATH": "/usr/bin:/bin"}
        command = [TASKFLOW, "migrate", "--dsn", postgres_empty_dsn]
        running = [
            subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) for _ in range(2)
        ]
        outputs = sorted(
            after_the_database(process.communicate(timeout=60)[0]) for process in running
        )

        assert [process.returncode for process in running] == [0, 0]
        assert outputs == [ALL_APPLIED, ["database is up to date"]]
