"""``taskflow webhooks list|remove`` on a SQLite database (issue 33, item 12)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from taskflow_cli.main import cli
from taskflow_core import Taskflow
from taskflow_sqlite import SqliteStore

CLEAN_ENV = dict.fromkeys(["TASKFLOW_DATABASE_URL", "TASKFLOW_APP"])
SECRET_URL = "https://user:hunter2@hooks.example.com/in?token=abc123"


def registered(path: Path) -> Taskflow:
    flow = Taskflow(SqliteStore(path))
    flow.webhook("https://crm.example.com/hooks", events=["comment"], secret="s3cret")
    flow.webhook(SECRET_URL)
    flow.create({})  # saves the webhooks
    flow.store.close()
    return flow


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=CLEAN_ENV)
    return result.exit_code, result.output


def test_list_shows_each_subscription_without_secrets(tmp_path: Path) -> None:
    path = tmp_path / "hooks.db"
    registered(path)
    code, output = invoke("webhooks", "list", "--dsn", f"sqlite:///{path}")
    assert code == 0, output
    assert output.splitlines() == [
        "https://crm.example.com/hooks\tcomment\tsigned",
        "https://***@hooks.example.com/in?***\t*\tunsigned",
    ]
    for secret in ("hunter2", "abc123", "s3cret"):
        assert secret not in output


def test_remove_takes_a_url_as_listed_and_cancels_it(tmp_path: Path) -> None:
    path = tmp_path / "hooks.db"
    registered(path)
    dsn = f"sqlite:///{path}"
    code, output = invoke(
        "webhooks", "remove", "https://***@hooks.example.com/in?***", "--dsn", dsn
    )
    assert code == 0, output
    assert output.strip() == "removed https://***@hooks.example.com/in?***"
    assert [w["url"] for w in Taskflow(SqliteStore(path)).webhooks()] == [
        "https://crm.example.com/hooks"
    ]
    code, output = invoke("webhooks", "remove", "https://nowhere.example.com/", "--dsn", dsn)
    assert code == 1
    assert output.strip() == "Error: no webhook has the URL https://nowhere.example.com/"


def test_list_of_an_empty_database_says_so(tmp_path: Path) -> None:
    code, output = invoke("webhooks", "list", "--dsn", f"sqlite:///{tmp_path / 'empty.db'}")
    assert code == 0
    assert "no webhooks" in output
