"""A real OpenID Connect provider for the sign-in tests: npm's ``oidc-provider`` on node.

``start_provider(clients)`` installs tests/oidc's locked packages when they are missing or
older than the lock (``npm ci``, once, under a file lock: the suite's processes share the
folder), starts tests/oidc/provider.mjs on a free port and waits for its discovery document.
Without node or npm the tests fail saying so: CI has both.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest

from tests.e2e.serving import free_port

FOLDER = Path(__file__).resolve().parents[1] / "oidc"
# Under 1 s on an idle machine; once in a full suite run (six workers on two cores) the
# provider had not finished starting after 30 s (its log stopped before its constructor's
# warnings, so before or while making its keys), so the wait only bounds a hang.
STARTUP_SECONDS = 120


def _installed() -> bool:
    # npm ci writes node_modules/.package-lock.json, a copy of the lock it installed.
    installed = FOLDER / "node_modules" / ".package-lock.json"
    return (
        installed.exists()
        and installed.stat().st_mtime >= (FOLDER / "package-lock.json").stat().st_mtime
    )


def install() -> None:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"The sign-in tests run a real OpenID Connect provider on node (tests/oidc/), and "
            f"{' and '.join(missing)} cannot be found: install Node.js 20 or later with npm"
        )
    with open(FOLDER / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed():
            return
        result = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=FOLDER,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            pytest.fail(f"npm ci in {FOLDER} failed:\n{result.stdout}\n{result.stderr}")


@attrs.frozen
class RunningProvider:
    issuer: str
    log: Path

    def text_of_log(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def start_provider(clients: list[dict[str, Any]], folder: Path) -> Iterator[RunningProvider]:
    install()
    port = free_port()
    clients_file = folder / "clients.json"
    clients_file.write_text(json.dumps(clients))
    log = folder / "provider.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            ["node", str(FOLDER / "provider.mjs"), str(port), str(clients_file)],
            cwd=FOLDER,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    provider = RunningProvider(f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"the OpenID Connect provider exited:\n{provider.text_of_log()}")
            try:
                url = f"{provider.issuer}/.well-known/openid-configuration"
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"the provider did not answer:\n{provider.text_of_log()}")
                time.sleep(0.1)
        yield provider
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
