"""``taskflow webhooks list|remove`` on a SQLite database (issue 33, item 12)."""

from __future__ import annotations

import base64
import sqlite3
from contextlib import closing
from pathlib import Path

from click.testing import CliRunner

from taskflow_cli.main import cli
from taskflow_compose.sealing import AesGcmSealer
from taskflow_core import Taskflow
from taskflow_sqlite import SqliteStore

CLEAN_ENV = dict.fromkeys(["TASKFLOW_DATABASE_URL", "TASKFLOW_APP", "TASKFLOW_SECRET_KEY"])
SECRET_URL = "https://user:hunter2@hooks.example.com/in?token=abc123"


def registered(path: Path) -> Taskflow:
    flow = Taskflow(SqliteStore(path), plain_webhook_secrets=True)
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
        "https://***@hooks.example.com/in?***\t*\tunsigned",
        "https://crm.example.com/hooks\tcomment\tsigned",
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


def test_migrate_seals_the_secrets_stored_as_given_when_a_key_is_set(tmp_path: Path) -> None:
    path = tmp_path / "hooks.db"
    registered(path)  # a plain secret and a URL with credentials, stored with no key
    key = base64.b64encode(b"m" * 32).decode()
    result = CliRunner().invoke(
        cli,
        ["migrate", "--dsn", f"sqlite:///{path}"],
        env={**CLEAN_ENV, "TASKFLOW_SECRET_KEY": key},
    )
    assert result.exit_code == 0, result.output
    assert "sealed the secrets and URLs of 2 webhook(s) with the current key" in result.output
    store = SqliteStore(path)
    with store.unit_of_work(read_only=True) as uow:
        stored = uow.webhooks.get("https://crm.example.com/hooks")
        (keyed,) = [w for w in uow.webhooks.all() if w.target is not None]
    store.close()
    assert stored is not None
    assert stored.secret is not None
    assert stored.secret.startswith("sealed:v1:")
    assert AesGcmSealer([b"m" * 32]).open(stored.secret) == "s3cret"
    assert AesGcmSealer([b"m" * 32]).open(keyed.target or "") == SECRET_URL
    with closing(sqlite3.connect(path)) as conn:
        dump = repr(conn.execute("SELECT * FROM webhooks").fetchall())
    for secret in ("hunter2", "abc123", "s3cret"):
        assert secret not in dump


def test_migrate_with_a_malformed_key_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["migrate", "--dsn", f"sqlite:///{tmp_path / 'x.db'}"],
        env={**CLEAN_ENV, "TASKFLOW_SECRET_KEY": "not base64 of 32 bytes"},
    )
    assert result.exit_code == 2
    assert "TASKFLOW_SECRET_KEY" in result.output
