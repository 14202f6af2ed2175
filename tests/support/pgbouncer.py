"""A real PgBouncer in transaction pooling mode, started for the tests in front of a server."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from psycopg.conninfo import conninfo_to_dict, make_conninfo

# apt installs it outside a non-root user's PATH.
_CANDIDATES = ("pgbouncer", "/usr/sbin/pgbouncer", "/usr/local/sbin/pgbouncer")
STARTUP_SECONDS = 10


def pgbouncer_binary() -> str | None:
    for candidate in _CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def _unprivileged_user() -> str:
    # PgBouncer refuses to run as root; `-u` has it switch to this user after reading its
    # configuration. postgres exists wherever the server was installed from packages.
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("no unprivileged user to run pgbouncer as (postgres or nobody)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PgBouncer:
    """``with PgBouncer("127.0.0.1", 5432) as bouncer:`` every database of that server,
    reachable at ``bouncer.port``; ``bouncer.dsn(direct_dsn)`` is the same URL through it.

    ``pool_size`` server connections at most per database and user: fewer than the clients,
    so that clients do share server sessions, as in production.
    """

    def __init__(
        self, host: str, port: int, *, pool_size: int = 10, query_wait_timeout: int = 120
    ) -> None:
        binary = pgbouncer_binary()
        if binary is None:
            raise RuntimeError("pgbouncer is not installed (.ci/run installs it)")
        self._binary = binary
        self._server = (host, port)
        self._pool_size = pool_size
        self._query_wait_timeout = query_wait_timeout
        self.port = _free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None

    def dsn(self, direct: str, **extra: str) -> str:
        """The libpq connection string ``direct`` names, through this PgBouncer."""
        params = conninfo_to_dict(direct)
        params.update(host="127.0.0.1", port=str(self.port), **extra)
        return make_conninfo("", **params)

    def url(self, direct: str) -> str:
        """``postgresql://user@127.0.0.1:port/dbname``: ``direct`` through this PgBouncer."""
        params = conninfo_to_dict(direct)
        return f"postgresql://{params['user']}@127.0.0.1:{self.port}/{params['dbname']}"

    @property
    def log(self) -> str:
        return "" if self._dir is None else (self._dir / "pgbouncer.log").read_text()

    def __enter__(self) -> PgBouncer:
        # World-readable: as root, pgbouncer refuses to run and is started as another user,
        # who must read its configuration.
        self._dir = Path(tempfile.mkdtemp(prefix="taskflow-pgbouncer-"))
        self._dir.chmod(0o755)
        host, port = self._server
        (self._dir / "userlist.txt").write_text('"postgres" ""\n')
        (self._dir / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host={host} port={port}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {self._dir / 'userlist.txt'}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {self._pool_size}\n"
            "max_client_conn = 1000\n"
            f"query_wait_timeout = {self._query_wait_timeout}\n"
            # A test's database is dropped after it: server connections to it are not kept.
            "server_idle_timeout = 5\n"
            "server_login_retry = 1\n"
            "log_connections = 0\n"
            "log_disconnections = 0\n"
            f"logfile = {self._dir / 'pgbouncer.log'}\n"
        )
        for name in ("userlist.txt", "pgbouncer.ini"):
            (self._dir / name).chmod(0o644)
        command = [self._binary, "-q"]
        if os.geteuid() == 0:
            user = _unprivileged_user()
            command += ["-u", user]
            shutil.chown(self._dir, user=user)
        self._process = subprocess.Popen(
            [*command, str(self._dir / "pgbouncer.ini")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._wait_until_listening()
        return self

    def _wait_until_listening(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                stderr = self._process.stderr.read().decode() if self._process.stderr else ""
                raise RuntimeError(f"pgbouncer exited: {stderr}{self.log}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            except OSError:
                time.sleep(0.05)
                continue
            return
        raise RuntimeError(f"pgbouncer did not listen within {STARTUP_SECONDS}s: {self.log}")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
