"""A real ``taskflow serve --auth``: the workers authenticate as the options say, against a
real local JWKS server, and nothing of a token reaches the server's output."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.serving import clean_env, free_port, serving, stop, taskflow_command
from tests.support.identity import AUDIENCE, ISSUER, SigningKey, claims, jwks_server

pytestmark = pytest.mark.e2e


def status_of(url: str, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        if error.code == 401 and error.headers["WWW-Authenticate"] != "Bearer":
            return -1  # a 401 without the challenge: not ours
        return error.code


def test_serve_with_bearer_tokens(tmp_path: Path) -> None:
    key = SigningKey.rsa()
    with jwks_server(key) as idp:
        port = free_port()
        command = [*taskflow_command(), "serve", "--port", str(port), "--workers", "2"]
        command += ["--auth", "jwt", "--jwt-jwks", idp.url, "--jwt-audience", AUDIENCE]
        command += ["--jwt-issuer", ISSUER]
        token = key.sign(claims("ann"))
        ready = "/_ready"  # / needs a token
        with serving(command, cwd=tmp_path, env=clean_env(), port=port, ready_path=ready) as server:
            assert status_of(server.url + "/", {}) == 401
            for _ in range(4):  # a request or two on each worker
                assert status_of(server.url + "/", {"Authorization": f"Bearer {token}"}) == 200
            assert status_of(server.url + "/", {"X-Forwarded-User": "admin"}) == 401
            assert status_of(server.url + "/_health", {}) == 200
            assert stop(server) == 0
        assert "anyone who can reach" not in server.log
        assert all(part not in server.log for part in token.split("."))
        assert 1 <= idp.fetches <= 2  # once per worker at most


def test_serve_without_auth_says_so_in_one_line(tmp_path: Path) -> None:
    port = free_port()
    command = [*taskflow_command(), "serve", "--port", str(port), "--workers", "1"]
    with serving(command, cwd=tmp_path, env=clean_env(), port=port) as server:
        assert status_of(server.url + "/", {}) == 200
        assert stop(server) == 0
    lines = [line for line in server.log.splitlines() if "anyone who can reach" in line]
    assert len(lines) == 1
