"""``taskflow serve``'s configuration of gunicorn, checked without starting it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from taskflow_cli import serve as serve_module
from taskflow_cli.main import cli

ENV_KEYS = (
    "TASKFLOW_DATABASE_URL",
    "TASKFLOW_APP",
    "TASKFLOW_POOL_SIZE",
    "TASKFLOW_HEADER_TIMEOUT",
    "TASKFLOW_BODY_TIMEOUT",
    "TASKFLOW_FEED",
)
# Who is asking (docs/access.md): set by serve for its workers too.
AUTH_KEYS = (
    "TASKFLOW_AUTH",
    "TASKFLOW_JWT_JWKS",
    "TASKFLOW_JWT_AUDIENCE",
    "TASKFLOW_JWT_ISSUER",
    "TASKFLOW_JWT_ID_CLAIM",
    "TASKFLOW_JWT_ROLES_CLAIM",
    "TASKFLOW_AUTH_USER_HEADER",
    "TASKFLOW_AUTH_ROLES_HEADER",
)


HOST_MODULE = """
from taskflow_core import Taskflow
from taskflow_core.memory import MemoryStore

flow = Taskflow(MemoryStore())

from taskflow_falcon import create_app

app = create_app(flow)
"""


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict[str, Any]]:
    """What each `serve` would have started gunicorn with, and the environment it set.

    Runs in an empty directory holding a host module ``host_module:flow``.
    """
    for key in (*ENV_KEYS, *AUTH_KEYS):
        # serve sets these in this very process, for its workers. Setting first makes the
        # undo remove what was not there before: delenv alone records nothing for it.
        monkeypatch.setenv(key, "")
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "host_module.py").write_text(HOST_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    runs: list[dict[str, Any]] = []

    def run(self: serve_module.TaskflowServer) -> None:
        runs.append(
            {
                "options": self.options,
                "migrated": Path("taskflow.db").exists(),
                "cfg": {k: self.cfg.settings[k].get() for k in ("bind", "workers", "threads")},
                "env": {k: os.environ.get(k) for k in ENV_KEYS},
                "auth": {k: v for k in AUTH_KEYS if (v := os.environ.get(k)) is not None},
            }
        )

    monkeypatch.setattr(serve_module.TaskflowServer, "run", run)
    # Whether the address is free is tested on its own: here 8000 may be taken on the machine.
    monkeypatch.setattr(serve_module, "check_can_listen", lambda host, port: None)
    return runs


def test_defaults_bind_localhost_8000_with_head_first_threaded_workers_and_a_matching_pool(
    started: list[dict[str, Any]],
) -> None:
    result = CliRunner().invoke(cli, ["serve"])

    assert result.exit_code == 0, result.output
    [run] = started
    assert run["cfg"] == {
        "bind": ["127.0.0.1:8000"],
        "workers": serve_module.default_workers(),
        "threads": 4,
    }
    assert run["options"]["worker_class"] == "taskflow_cli.worker.HeadFirstWorker"
    assert run["options"]["preload_app"] is False
    # The embedded store is migrated once, before any worker starts.
    assert run["migrated"] is True
    assert "applied 0001" in result.output
    # No URL: the workers fall back to the embedded store, as get_app() would.
    assert run["env"] == {
        "TASKFLOW_DATABASE_URL": None,
        "TASKFLOW_APP": None,
        "TASKFLOW_POOL_SIZE": "4",
        "TASKFLOW_HEADER_TIMEOUT": "10.0",
        "TASKFLOW_BODY_TIMEOUT": "30.0",
        # The change feed stays off over HTTP unless --feed says so.
        "TASKFLOW_FEED": "0",
    }


def test_options_reach_gunicorn_and_the_workers_environment(
    started: list[dict[str, Any]],
) -> None:
    args = [
        "serve",
        "--dsn",
        "sqlite:///other.db",
        "--host",
        "0.0.0.0",
        "--port",
        "9000",
        "--workers",
        "3",
        "--threads",
        "6",
        "--app",
        "host_module:flow",
        "--header-timeout",
        "5",
        "--body-timeout",
        "7.5",
        "--no-migrate",
    ]

    result = CliRunner().invoke(cli, args)

    assert result.exit_code == 0, result.output
    [run] = started
    assert run["cfg"] == {"bind": ["0.0.0.0:9000"], "workers": 3, "threads": 6}
    assert run["migrated"] is False
    assert "migrating" not in result.output
    assert run["env"] == {
        "TASKFLOW_DATABASE_URL": "sqlite:///other.db",
        "TASKFLOW_APP": "host_module:flow",
        "TASKFLOW_POOL_SIZE": "6",
        "TASKFLOW_HEADER_TIMEOUT": "5.0",
        "TASKFLOW_BODY_TIMEOUT": "7.5",
        "TASKFLOW_FEED": "0",
    }


def test_the_environments_database_url_is_used_without_dsn(
    started: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TASKFLOW_DATABASE_URL", "sqlite:///elsewhere.db")

    CliRunner().invoke(cli, ["serve"])

    assert started[0]["env"]["TASKFLOW_DATABASE_URL"] == "sqlite:///elsewhere.db"


def test_an_ipv6_host_is_bracketed(started: list[dict[str, Any]]) -> None:
    CliRunner().invoke(cli, ["serve", "--host", "::1", "--port", "8001"])

    assert started[0]["cfg"]["bind"] == ["[::1]:8001"]


@pytest.mark.parametrize(
    "args",
    [
        ["--workers", "0"],
        ["--threads", "0"],
        ["--port", "70000"],
        ["--header-timeout", "0"],
        ["--body-timeout", "-1"],
    ],
)
def test_out_of_range_numbers_are_usage_errors(
    started: list[dict[str, Any]], args: list[str]
) -> None:
    result = CliRunner().invoke(cli, ["serve", *args])

    assert result.exit_code == 2
    assert started == []


@pytest.mark.parametrize(("cores", "workers"), [(None, 2), (1, 2), (2, 2), (4, 4), (64, 8)])
def test_default_workers_follow_the_cores_within_bounds(
    monkeypatch: pytest.MonkeyPatch, cores: int | None, workers: int
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: cores)

    assert serve_module.default_workers() == workers


@pytest.mark.parametrize("app", ["no_such_module:flow", "host_module:nothing", "json:dumps"])
def test_an_app_that_cannot_be_loaded_fails_in_one_line_before_gunicorn_starts(
    started: list[dict[str, Any]], app: str
) -> None:
    result = CliRunner().invoke(cli, ["serve", "--app", app])

    assert result.exit_code == 1
    assert started == []
    assert result.output.startswith(f"Error: cannot load the app {app}: ")
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_an_unknown_database_url_fails_in_one_line(started: list[dict[str, Any]]) -> None:
    result = CliRunner().invoke(cli, ["serve", "--dsn", "mysql://db/x"])

    assert result.exit_code == 1
    assert started == []
    assert len(result.output.strip().splitlines()) == 1


def test_an_unreachable_database_fails_in_one_line_when_migrating(
    started: list[dict[str, Any]],
) -> None:
    result = CliRunner().invoke(
        cli, ["serve", "--dsn", "postgresql://postgres@127.0.0.1:1/x?connect_timeout=2"]
    )

    assert result.exit_code == 1
    assert started == []
    assert result.stdout == "migrating postgresql://postgres@127.0.0.1:1/x\n"
    assert result.stderr.startswith("Error: cannot connect to the database")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_hosts_own_app_is_served_and_no_database_is_guessed_for_it(
    started: list[dict[str, Any]],
) -> None:
    result = CliRunner().invoke(cli, ["serve", "--app", "host_module:app"])

    assert result.exit_code == 0, result.output
    [run] = started
    assert run["env"]["TASKFLOW_APP"] == "host_module:app"
    # No --dsn: the host's app has its own store; no taskflow.db is made on a guess.
    assert run["migrated"] is False


def test_serve_is_listed_in_the_help() -> None:
    result = CliRunner().invoke(cli, ["--help"])

    assert result.exit_code == 0
    assert "serve" in result.output


def test_feed_turns_the_change_feed_on_in_the_workers(started: list[dict[str, Any]]) -> None:
    result = CliRunner().invoke(cli, ["serve", "--feed"])

    assert result.exit_code == 0, result.output
    [run] = started
    assert run["env"]["TASKFLOW_FEED"] == "1"


def test_taskflow_feed_in_the_environment_turns_it_on_too(
    started: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TASKFLOW_FEED", "1")

    CliRunner().invoke(cli, ["serve"])

    assert started[0]["env"]["TASKFLOW_FEED"] == "1"


NO_AUTH_WARNING = "anyone who can reach this address can read and change every case"


def test_without_auth_serve_says_in_one_line_that_anyone_can_do_anything(
    started: list[dict[str, Any]],
) -> None:
    result = CliRunner().invoke(cli, ["serve"])

    assert result.exit_code == 0, result.output
    assert [line for line in result.output.splitlines() if NO_AUTH_WARNING in line] == [
        "taskflow: no authentication (--auth none): " + NO_AUTH_WARNING + "."
    ]
    assert started[0]["auth"] == {"TASKFLOW_AUTH": "none"}


def test_auth_jwt_reaches_the_workers(started: list[dict[str, Any]]) -> None:
    args = ["serve", "--auth", "jwt", "--jwt-jwks", "https://idp.example/certs"]
    args += ["--jwt-audience", "taskflow", "--jwt-issuer", "https://idp.example"]
    result = CliRunner().invoke(cli, args)

    assert result.exit_code == 0, result.output
    assert NO_AUTH_WARNING not in result.output
    assert started[0]["auth"] == {
        "TASKFLOW_AUTH": "jwt",
        "TASKFLOW_JWT_JWKS": "https://idp.example/certs",
        "TASKFLOW_JWT_AUDIENCE": "taskflow",
        "TASKFLOW_JWT_ISSUER": "https://idp.example",
    }


def test_auth_from_the_environment(
    started: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TASKFLOW_AUTH", "headers")
    monkeypatch.setenv("TASKFLOW_AUTH_USER_HEADER", "X-Auth-Request-User")

    result = CliRunner().invoke(cli, ["serve"])

    assert result.exit_code == 0, result.output
    assert started[0]["auth"] == {
        "TASKFLOW_AUTH": "headers",
        "TASKFLOW_AUTH_USER_HEADER": "X-Auth-Request-User",
    }


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--auth", "jwt", "--jwt-audience", "a"], "--jwt-jwks"),
        (["--auth", "jwt", "--jwt-jwks", "https://idp/certs"], "--jwt-audience"),
        (["--auth", "jwt", "--jwt-jwks", "ftp://idp/certs", "--jwt-audience", "a"], "http"),
        (["--auth", "magic"], "magic"),
        (["--app", "host_module:app", "--auth", "headers"], "authenticate="),
    ],
)
def test_auth_settings_that_cannot_work_fail_before_gunicorn_starts(
    started: list[dict[str, Any]], args: list[str], says: str
) -> None:
    result = CliRunner().invoke(cli, ["serve", *args])

    assert result.exit_code == 2
    assert says in result.output
    assert "Traceback" not in result.output
    assert started == []
