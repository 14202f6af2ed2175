"""``taskflow serve``'s sign-in options: handed to the workers, and checked before they start."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from taskflow_cli import serve as serve_module
from taskflow_cli.main import cli
from taskflow_compose.signin import signin_from_env
from taskflow_compose.wsgi import app_from_env

SIGNIN_KEYS = (
    "TASKFLOW_JWT_ISSUER",
    "TASKFLOW_OIDC_CLIENT_ID",
    "TASKFLOW_OIDC_CLIENT_SECRET",
    "TASKFLOW_SESSION_SECRET",
)
OTHER_KEYS = (
    "TASKFLOW_DATABASE_URL",
    "TASKFLOW_APP",
    "TASKFLOW_POOL_SIZE",
    "TASKFLOW_HEADER_TIMEOUT",
    "TASKFLOW_BODY_TIMEOUT",
    "TASKFLOW_FEED",
)
ISSUER = "https://idp.example.org/realms/cases"
SECRET = "sixteen bytes or more"


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict[str, Any]]:
    """The workers' environment each `serve` would have started gunicorn with."""
    for key in (*SIGNIN_KEYS, *OTHER_KEYS):
        monkeypatch.setenv(key, "")
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    runs: list[dict[str, Any]] = []

    def run(self: serve_module.TaskflowServer) -> None:
        runs.append({k: os.environ.get(k) for k in SIGNIN_KEYS})

    monkeypatch.setattr(serve_module.TaskflowServer, "run", run)
    monkeypatch.setattr(serve_module, "check_can_listen", lambda host, port: None)
    return runs


def test_the_sign_in_options_reach_the_workers(started: list[dict[str, Any]]) -> None:
    args = ["serve", "--jwt-issuer", ISSUER, "--oidc-client-id", "taskflow"]
    args += ["--oidc-client-secret", "client secret", "--session-secret", SECRET]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert started == [
        {
            "TASKFLOW_JWT_ISSUER": ISSUER,
            "TASKFLOW_OIDC_CLIENT_ID": "taskflow",
            "TASKFLOW_OIDC_CLIENT_SECRET": "client secret",
            "TASKFLOW_SESSION_SECRET": SECRET,
        }
    ]
    signin = signin_from_env()
    assert signin is not None
    assert signin.provider.issuer == ISSUER
    assert signin.provider.client_id == "taskflow"


def test_the_sign_in_options_come_from_the_environment_too(
    started: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TASKFLOW_JWT_ISSUER", ISSUER)
    monkeypatch.setenv("TASKFLOW_OIDC_CLIENT_ID", "taskflow")
    monkeypatch.setenv("TASKFLOW_SESSION_SECRET", SECRET)
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 0, result.output
    # The app the workers build has the sign-in's routes.
    app = app_from_env()
    resource, *_ = app._router.find("/ui/signin")  # type: ignore[attr-defined]
    assert type(resource).__name__ == "SignInResource"


def test_without_a_client_id_there_is_no_sign_in(started: list[dict[str, Any]]) -> None:
    result = CliRunner().invoke(cli, ["serve", "--jwt-issuer", ISSUER])
    assert result.exit_code == 0, result.output
    assert signin_from_env() is None
    assert app_from_env()._router.find("/ui/signin") is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--oidc-client-id", "taskflow", "--session-secret", SECRET], "--jwt-issuer"),
        (["--oidc-client-id", "taskflow", "--jwt-issuer", ISSUER], "--session-secret"),
        (
            ["--oidc-client-id", "taskflow", "--jwt-issuer", ISSUER, "--session-secret", "short"],
            "at least 16 bytes",
        ),
    ],
)
def test_an_incomplete_sign_in_is_a_usage_error_before_gunicorn_starts(
    started: list[dict[str, Any]], args: list[str], said: str
) -> None:
    result = CliRunner().invoke(cli, ["serve", *args])
    assert result.exit_code == 2
    assert said in result.output
    assert started == []
