"""``taskflow relay``: listed, loads a host's flow or says why not, delivers until stopped, and
waits out a store it cannot reach."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from taskflow_cli.main import cli
from taskflow_cli.relay import run
from taskflow_core import Taskflow
from taskflow_postgres import PostgresStore
from taskflow_sqlite import SqliteStore
from tests.e2e.serving import taskflow_command
from tests.receiver import Receiver, eventually, receiving

CLEAN_ENV = dict.fromkeys(["TASKFLOW_DATABASE_URL", "TASKFLOW_APP"])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as receiver:
        yield receiver


def relaying(flow: Taskflow) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(flow, stop), kwargs={"timeout": 2, "workers": 2})
    thread.start()
    return thread, stop


def test_taskflow_help_lists_the_relay() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "relay" in result.output
    usage = CliRunner().invoke(cli, ["relay", "--help"])
    assert usage.exit_code == 0
    assert all(option in usage.output for option in ("--dsn", "--app", "--timeout", "--workers"))


def test_an_app_that_cannot_be_loaded_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notaflow.py").write_text("flow = 42\n")
    for spec in ("no_such_module:flow", "notaflow:flow", "notaflow:missing"):
        result = CliRunner().invoke(cli, ["relay", "--app", spec], env=CLEAN_ENV)
        assert result.exit_code == 1, result.output
        assert result.output.startswith(f"Error: cannot load the app {spec}: "), result.output
        assert len(result.output.strip().splitlines()) == 1


def test_the_relay_delivers_a_host_flow_webhooks_until_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "relayedhost.py").write_text(
        textwrap.dedent(
            f"""
            from taskflow_core import Taskflow
            from taskflow_sqlite import SqliteStore

            flow = Taskflow(SqliteStore({str(tmp_path / "host.db")!r}), allow_private_webhooks=True)
            flow.webhook({receiver.url()!r})
            """
        )
    )
    import relayedhost  # type: ignore[import-not-found]

    flow: Taskflow = relayedhost.flow
    thread, stop = relaying(flow)
    try:
        case = flow.create({})
        flow.comment(case["id"], "relayed")
        eventually(lambda: len(receiver.accepted()) == 2)
        assert [r.message["type"] for r in receiver.accepted()] == ["create", "comment"]
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


def test_a_relay_waits_out_a_store_it_cannot_reach(caplog: pytest.LogCaptureFixture) -> None:
    unreachable = PostgresStore("postgresql://nobody@127.0.0.1:1/none", timeout=0.5)
    thread, stop = relaying(
        Taskflow(unreachable, allow_private_webhooks=True).webhook("http://127.0.0.1:9/hook")
    )
    try:
        with caplog.at_level(logging.WARNING, logger="taskflow.relay"):
            eventually(lambda: "the store failed" in caplog.text, within=15)
        assert thread.is_alive()
    finally:
        stop.set()
        thread.join(40)
        unreachable.close()
    assert not thread.is_alive()


def test_a_plain_relay_delivers_the_webhooks_the_database_holds(
    tmp_path: Path, receiver: Receiver
) -> None:
    path = tmp_path / "shared.db"
    registering = Taskflow(SqliteStore(path), allow_private_webhooks=True).webhook(receiver.url())
    case = registering.create({})  # saves the webhook, then writes
    thread, stop = relaying(Taskflow(SqliteStore(path), allow_private_webhooks=True))
    try:
        eventually(lambda: len(receiver.accepted()) == 1)
        assert receiver.accepted()[0].message["data"]["caseId"] == case["id"]
    finally:
        stop.set()
        thread.join(10)


@pytest.mark.postgres
def test_a_database_without_the_schema_is_one_line_not_retried_forever(
    postgres_empty_dsn: str,
) -> None:
    result = CliRunner().invoke(cli, ["relay", "--dsn", postgres_empty_dsn], env=CLEAN_ENV)

    assert result.exit_code == 1, result.output
    assert "has no taskflow schema: run `taskflow migrate` first" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_sqlite_file_that_is_not_there_is_one_line_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    result = CliRunner().invoke(cli, ["relay", "--dsn", f"sqlite:///{missing}"], env=CLEAN_ENV)

    assert result.exit_code == 1, result.output
    assert "does not exist" in result.output
    assert not missing.exists()


# serve's line (taskflow_cli/logs.py): `[2026-01-05 10:00:00 +0000] [4242] [INFO] name: text`.
SERVE_LINE = re.compile(
    r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\] \[[A-Z]+\] [\w.]+: .+"
)


def test_the_relay_logs_in_the_shape_serve_does(tmp_path: Path) -> None:
    database = tmp_path / "relay.db"
    made = Taskflow(SqliteStore(database))
    made.migrate()
    made.store.close()
    relay = subprocess.Popen(
        [*taskflow_command(), "relay", "--dsn", f"sqlite:///{database}"],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k not in CLEAN_ENV},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert relay.stderr is not None
        first = relay.stderr.readline().rstrip("\n")
        relay.send_signal(signal.SIGTERM)
        rest = relay.communicate(timeout=30)[1].splitlines()
    finally:
        relay.kill()
    lines = [first, *rest]
    assert "taskflow.relay: relay delivering webhooks" in first
    assert "taskflow.relay: stopping" in lines[1]
    for line in lines:
        assert SERVE_LINE.fullmatch(line), line
