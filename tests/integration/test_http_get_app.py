"""``get_app()``, the gunicorn factory: configured by the environment, connecting lazily."""

from __future__ import annotations

import textwrap
from pathlib import Path

import falcon.testing
import pytest

from taskflow_compose.wsgi import flow_from_env, get_app
from taskflow_falcon.api import flow_of
from taskflow_postgres import PostgresStore
from taskflow_sqlite import SqliteStore


@pytest.fixture(autouse=True)
def no_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in ("TASKFLOW_DATABASE_URL", "TASKFLOW_APP", "TASKFLOW_POOL_SIZE", "TASKFLOW_FEED"):
        monkeypatch.delenv(key, raising=False)
    for key in ("TASKFLOW_AUTH", "TASKFLOW_JWT_JWKS", "TASKFLOW_JWT_AUDIENCE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)


def test_without_configuration_it_serves_taskflow_db_in_the_working_directory(
    tmp_path: Path,
) -> None:
    client = falcon.testing.TestClient(get_app())

    assert client.simulate_post("/", json={"a": 1}).status_code == 200
    assert client.simulate_get("/").json["meta"]["count"] == 1
    assert (tmp_path / "taskflow.db").exists()


def test_database_url_names_the_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TASKFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")

    flow = flow_from_env()

    assert isinstance(flow.store, SqliteStore)
    assert flow.store.path == str(tmp_path / "other.db")


def test_building_the_app_opens_no_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing listens on port 1: connecting would fail. gunicorn may build the app before
    # forking, so a connection made here would be shared by every worker.
    monkeypatch.setenv("TASKFLOW_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("TASKFLOW_POOL_SIZE", "3")

    app = get_app()
    flow = flow_from_env()

    assert app is not None
    assert isinstance(flow.store, PostgresStore)
    assert (flow.store._min_size, flow.store._max_size) == (3, 3)


def test_taskflow_app_names_the_hosts_configured_flow(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "host_for_get_app.py").write_text(
        textwrap.dedent(
            """
            from taskflow_core import Taskflow
            from taskflow_core.memory import MemoryStore

            flow = Taskflow(MemoryStore())
            flow.decorate(lambda case, user: {**case, "host": True})
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("TASKFLOW_APP", "host_for_get_app:flow")
    client = falcon.testing.TestClient(get_app())

    result = client.simulate_post("/", json={})

    assert result.json["data"]["host"] is True
    assert not (tmp_path / "taskflow.db").exists()


HOST_APP_MODULE = """
import falcon

from taskflow_core import Taskflow
from taskflow_core.memory import MemoryStore
from taskflow_falcon import create_app


class Authenticate:
    def process_request(self, req, resp):
        name = req.get_header("X-User")
        if name is None:
            raise falcon.HTTPUnauthorized(description="Sign in first")
        req.context.user = {"profile": {"id": name}}


flow = Taskflow(MemoryStore())
app = create_app(flow, middleware=[Authenticate()])
"""


def test_taskflow_app_may_name_the_hosts_own_app_with_its_middleware(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "host_app_for_get_app.py").write_text(HOST_APP_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("TASKFLOW_APP", "host_app_for_get_app:app")
    client = falcon.testing.TestClient(get_app())

    refused = client.simulate_post("/", json={})
    created = client.simulate_post("/", json={}, headers={"X-User": "ada"})

    assert refused.status_code == 401
    assert refused.json == {"message": "Sign in first"}
    assert created.json["data"]["activityLog"][0]["changedBy"] == "ada"


@pytest.mark.postgres
def test_on_a_database_without_the_schema_each_request_answers_503_and_ready_says_to_migrate(
    monkeypatch: pytest.MonkeyPatch, postgres_empty_dsn: str
) -> None:
    # Unlike `taskflow serve`, the factory checks nothing first: the app is built, and
    # answers what it can until the database is migrated.
    monkeypatch.setenv("TASKFLOW_DATABASE_URL", postgres_empty_dsn)
    app = get_app()
    client = falcon.testing.TestClient(app)
    try:
        listing = client.simulate_get("/")
        ready = client.simulate_get("/_ready")
    finally:
        flow_of(app).store.close()  # type: ignore[union-attr]

    assert (listing.status_code, listing.headers["retry-after"]) == (503, "2")
    assert ready.status_code == 503
    assert "run `taskflow migrate`" in ready.json["message"]


def test_the_deprecated_entry_point_is_the_same_factory() -> None:
    from taskflow_falcon.app import get_app as deprecated

    assert deprecated is get_app


def test_the_feed_is_off_unless_taskflow_feed_turns_it_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert falcon.testing.TestClient(get_app()).simulate_get("/_changes").status_code == 403
    monkeypatch.setenv("TASKFLOW_FEED", "0")
    assert falcon.testing.TestClient(get_app()).simulate_get("/_changes").status_code == 403
    monkeypatch.setenv("TASKFLOW_FEED", "1")
    assert falcon.testing.TestClient(get_app()).simulate_get("/_changes").status_code == 200


def test_taskflow_auth_makes_every_request_authenticate(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.identity import AUDIENCE, SigningKey, claims, jwks_server

    key = SigningKey.rsa()
    monkeypatch.setenv("TASKFLOW_AUTH", "headers")
    client = falcon.testing.TestClient(get_app())
    assert client.simulate_get("/").status_code == 401
    assert client.simulate_get("/", headers={"X-Forwarded-User": "ann"}).status_code == 200
    with jwks_server(key) as idp:
        monkeypatch.setenv("TASKFLOW_AUTH", "jwt")
        monkeypatch.setenv("TASKFLOW_JWT_JWKS", idp.url)
        monkeypatch.setenv("TASKFLOW_JWT_AUDIENCE", AUDIENCE)
        client = falcon.testing.TestClient(get_app())
        assert client.simulate_get("/", headers={"X-Forwarded-User": "ann"}).status_code == 401
        token = key.sign(claims())
        answer = client.simulate_get("/", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200
        assert client.simulate_get("/_health").status_code == 200
