"""``taskflow serve --oidc-client-id ...`` for real: gunicorn with two workers, a real OpenID
Connect provider, and a signed-out cookie refused by whichever worker it reaches."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from taskflow_falcon.signin import SESSION_COOKIE
from tests.e2e.serving import clean_env, free_port, serving, taskflow_command
from tests.support.oidc_browser import to_callback
from tests.support.oidc_provider import start_provider

pytestmark = pytest.mark.e2e

# Enough requests that both workers answer some (gunicorn hands connections to whichever
# worker accepts first; each request here is a new connection).
TRIES = 30


def test_a_session_signed_out_on_one_worker_is_refused_by_every_worker(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    client = {
        "client_id": "taskflow",
        "client_secret": "served client secret",
        "redirect_uris": [f"{url}/ui/auth/callback"],
        "response_types": ["code"],
        "grant_types": ["authorization_code"],
    }
    with start_provider([client], tmp_path) as provider:
        command = [
            *taskflow_command(),
            "serve",
            "--dsn",
            f"sqlite:///{tmp_path / 'taskflow.db'}",
            "--port",
            str(port),
            "--workers",
            "2",
            "--jwt-issuer",
            provider.issuer,
            "--oidc-client-id",
            "taskflow",
        ]
        env = clean_env(
            TASKFLOW_OIDC_CLIENT_SECRET="served client secret",
            TASKFLOW_SESSION_SECRET="a session secret both workers share",
        )
        with serving(command, cwd=tmp_path, env=env, port=port) as server:
            signed_out = requests.get(f"{url}/ui/somewhere", allow_redirects=False)
            assert signed_out.status_code == 303, server.log
            assert signed_out.headers["location"] == "/ui/signin?next=%2Fui%2Fsomewhere"

            browser = requests.Session()
            callback = to_callback(browser, f"{url}/ui/somewhere", f"{url}/ui/auth/callback")
            back = browser.get(callback, allow_redirects=False)
            assert back.status_code == 303, server.log
            assert back.headers["location"] == "/ui/somewhere"
            kept = browser.cookies[SESSION_COOKIE]
            # Signed in, every worker lets the request through (to a page not built yet).
            for _ in range(TRIES):
                page = requests.get(
                    f"{url}/ui/somewhere", cookies={SESSION_COOKIE: kept}, allow_redirects=False
                )
                assert page.status_code == 404

            assert browser.post(f"{url}/ui/signout").status_code == 200
            for _ in range(TRIES):
                page = requests.get(
                    f"{url}/ui/somewhere", cookies={SESSION_COOKIE: kept}, allow_redirects=False
                )
                assert page.status_code == 303
                posted = requests.post(f"{url}/ui/somewhere", cookies={SESSION_COOKIE: kept})
                assert posted.status_code == 401
