"""``taskflow serve``: the HTTP API under gunicorn, with defaults sized for the machine."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from typing import Any

import click
import falcon
from gunicorn.app.base import BaseApplication

from taskflow_compose import store_from_url
from taskflow_compose.authentication import AUTH_MODES, AuthSettings
from taskflow_compose.environment import (
    APP_ENV,
    AUTH_ENV,
    AUTH_ROLES_HEADER_ENV,
    AUTH_USER_HEADER_ENV,
    BODY_TIMEOUT_ENV,
    DEFAULT_DATABASE,
    FEED_ENV,
    HEADER_TIMEOUT_ENV,
    JWT_AUDIENCE_ENV,
    JWT_ID_CLAIM_ENV,
    JWT_ISSUER_ENV,
    JWT_JWKS_ENV,
    JWT_ROLES_CLAIM_ENV,
    METRICS_ENV,
    OIDC_CLIENT_ID_ENV,
    OIDC_CLIENT_SECRET_ENV,
    POOL_SIZE_ENV,
    SESSION_SECRET_ENV,
    UI_ENV,
    UI_SECRET_ENV,
)
from taskflow_compose.environment import app_spec as app_spec_from_env
from taskflow_compose.signin import signin_from_env
from taskflow_compose.wsgi import app_from_env, flow_from_env, host_app_from_env
from taskflow_core.background.sweeper import Sweeper
from taskflow_core.ports import Store
from taskflow_falcon.api import flow_of

from .database import check_answers, migrate_database, name_database
from .listening import bind_address, check_can_listen
from .loading import load_app
from .logs import GunicornLogger, logconfig
from .metrics import WorkerMetricsDirectory, child_exit
from .options import dsn_option
from .prune import age_text
from .scheduled_prune import PruneSchedule, prune_options, schedule
from .worker import DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_TIMEOUT

# gthread, except that a connection gets a thread only once its request has arrived.
WORKER_CLASS = "taskflow_cli.worker.HeadFirstWorker"
DEFAULT_THREADS = 4
# Each worker holds a pool of --threads connections; past 8 workers a default PostgreSQL
# (max_connections = 100) runs short, and more workers than cores only add contention.
MAX_DEFAULT_WORKERS = 8


def default_workers() -> int:
    """One worker per core, at least two (one may be restarting), at most eight."""
    return max(2, min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS))


def _when_ready(server: Any) -> None:
    # Logged from the listening sockets themselves, so --port 0 reports the real port.
    for listener in server.LISTENERS:
        server.log.info("taskflow listening on %s", listener)


class TaskflowServer(BaseApplication):  # type: ignore[misc]
    """gunicorn running ``get_app``'s composition, built in each worker after the fork."""

    def __init__(
        self,
        options: dict[str, Any],
        *,
        sweep_timers: bool = True,
        prune: PruneSchedule | None = None,
    ) -> None:
        self.options = options
        self.sweep_timers = sweep_timers
        self.prune = prune
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        # Recent gunicorn opens a control socket at one fixed path per user, which a second
        # server on the machine would fight over; we offer no runtime control through it.
        if "control_socket_disable" in self.cfg.settings:
            self.cfg.set("control_socket_disable", True)

    def load(self) -> falcon.App[falcon.Request, falcon.Response]:
        # Runs in the worker (the app is not preloaded): the store, and so the connection
        # pool, belongs to this process alone.
        app = app_from_env()
        flow = flow_of(app)
        if self.sweep_timers and flow is not None:
            # Every worker sweeps: firing claims each timer in the store, so it fires once,
            # and a worker that restarts leaves the others sweeping.
            Sweeper(flow).start()
        if self.prune is not None and flow is not None:
            # Every worker may prune, one at a time (scheduled_prune.py).
            self.prune.start(flow)
        return app


@click.command(help="Serve the HTTP API with gunicorn.")
@dsn_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="The address to listen on (0.0.0.0: every interface); the database's host is in --dsn.",
)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Worker processes. [default: one per core, 2 to 8]",
)
@click.option(
    "--threads",
    default=DEFAULT_THREADS,
    show_default=True,
    type=click.IntRange(min=1),
    help="Threads per worker; each worker's connection pool has as many connections.",
)
@click.option(
    "--header-timeout",
    default=DEFAULT_HEADER_TIMEOUT,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Close a connection whose request head has not arrived whole in this time.",
)
@click.option(
    "--body-timeout",
    default=DEFAULT_BODY_TIMEOUT,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Answer 408 to a request whose body has not arrived whole in this time.",
)
@click.option(
    "--app",
    "app_spec",
    metavar="MODULE:ATTR",
    help="A host module's configured Taskflow (hooks, decorators), or its own falcon app "
    "made with create_app (to add its authentication middleware). Default: a plain flow."
    " [env: TASKFLOW_APP]",
)
@click.option(
    "--timers/--no-timers",
    default=True,
    show_default=True,
    help="Fire due timers in the workers (else run `taskflow timers` somewhere).",
)
@click.option(
    "--feed/--no-feed",
    default=False,
    show_default=True,
    envvar=FEED_ENV,
    help="Answer GET /_changes: every case's entries, whatever the app's decorators hide, to "
    "whoever may call the API. Ignored for a host's own app (--app naming a falcon app): "
    "create_app(flow, feed=True) decides there.",
)
@click.option(
    "--ui/--no-ui",
    default=True,
    show_default=True,
    help="Serve the case browser's pages under /ui/ (docs/browser.md). Ignored for a host's "
    "own app (--app naming a falcon app): create_app(flow, ui=False) decides there.",
)
@click.option(
    "--auth",
    "auth_mode",
    type=click.Choice(AUTH_MODES),
    default="none",
    show_default=True,
    envvar=AUTH_ENV,
    help="Who is asking: bearer tokens (jwt), the headers of an authenticating proxy in front "
    "(headers: only safe when that proxy strips them from clients), or none: anyone who can "
    "reach the port can do anything (docs/access.md).",
)
@click.option("--jwt-jwks", metavar="URL", envvar=JWT_JWKS_ENV, help="--auth jwt: the JWKS URL.")
@click.option(
    "--jwt-audience", metavar="AUD", envvar=JWT_AUDIENCE_ENV, help="--auth jwt: the aud required."
)
@click.option(
    "--jwt-id-claim",
    metavar="CLAIM",
    envvar=JWT_ID_CLAIM_ENV,
    help="--auth jwt: the claim naming the user. [default: sub]",
)
@click.option(
    "--jwt-roles-claim",
    metavar="PATH",
    envvar=JWT_ROLES_CLAIM_ENV,
    help="--auth jwt: the claim (dotted path) holding the roles. "
    "[default: realm_access.roles, then roles]",
)
@click.option(
    "--auth-user-header",
    metavar="NAME",
    envvar=AUTH_USER_HEADER_ENV,
    help="--auth headers: the header naming the user. [default: X-Forwarded-User]",
)
@click.option(
    "--auth-roles-header",
    metavar="NAME",
    envvar=AUTH_ROLES_HEADER_ENV,
    help="--auth headers: the header of comma-separated roles. [default: X-Forwarded-Groups]",
)
@click.option(
    "--metrics/--no-metrics",
    default=True,
    show_default=True,
    help="Answer GET /metrics (Prometheus), summed over the workers. Ignored for a host's "
    "own app (--app naming a falcon app): create_app(flow, metrics=...) decides there.",
)
@click.option(
    "--migrate/--no-migrate",
    default=True,
    show_default=True,
    help="Bring the schema up to date before the workers start (else only check that the "
    "database answers and has it).",
)
@click.option(
    "--jwt-issuer",
    envvar=JWT_ISSUER_ENV,
    metavar="URL",
    help="The identity provider's issuer URL: --auth jwt requires tokens' iss to be it, and "
    "the pages' sign-in finds the provider under it (docs/access.md, docs/signin.md).",
)
@click.option(
    "--oidc-client-id",
    envvar=OIDC_CLIENT_ID_ENV,
    help="Sign in to the pages under /ui/ with OpenID Connect, as this client of the "
    "--jwt-issuer provider (docs/signin.md). Ignored for a host's own app.",
)
@click.option(
    "--oidc-client-secret",
    envvar=OIDC_CLIENT_SECRET_ENV,
    help="The client's secret at the provider (none: a public client, with PKCE alone).",
)
@click.option(
    "--session-secret",
    envvar=SESSION_SECRET_ENV,
    help="The key signing the pages' session cookies: at least 16 bytes, the same on "
    "every machine serving the pages.",
)
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="Print a line per request: method, path, status, duration and request id.",
)
@prune_options
def serve(
    dsn: str | None,
    host: str,
    port: int,
    workers: int | None,
    threads: int,
    header_timeout: float,
    body_timeout: float,
    app_spec: str | None,
    timers: bool,
    feed: bool,
    ui: bool,
    auth_mode: str,
    jwt_jwks: str | None,
    jwt_audience: str | None,
    jwt_issuer: str | None,
    jwt_id_claim: str | None,
    jwt_roles_claim: str | None,
    auth_user_header: str | None,
    auth_roles_header: str | None,
    metrics: bool,
    migrate: bool,
    oidc_client_id: str | None,
    oidc_client_secret: str | None,
    session_secret: str | None,
    access_log: bool,
    prune_older_than: timedelta | None,
    prune_every: timedelta | None,
) -> None:
    # The workers read their configuration from the environment, exactly as
    # `gunicorn 'taskflow_compose.wsgi:get_app()'` does, so both paths build the same app.
    url = name_database(dsn)
    if app_spec:
        os.environ[APP_ENV] = app_spec
    os.environ[POOL_SIZE_ENV] = str(threads)
    os.environ[HEADER_TIMEOUT_ENV] = str(header_timeout)
    os.environ[BODY_TIMEOUT_ENV] = str(body_timeout)
    os.environ[FEED_ENV] = "1" if feed else "0"
    _sign_in_for_workers(
        {
            JWT_ISSUER_ENV: jwt_issuer,
            OIDC_CLIENT_ID_ENV: oidc_client_id,
            OIDC_CLIENT_SECRET_ENV: oidc_client_secret,
            SESSION_SECRET_ENV: session_secret,
        }
    )
    os.environ[UI_ENV] = "1" if ui else "0"
    if not os.environ.get(UI_SECRET_ENV):
        # One for every worker (they inherit it through the fork), so that a form rendered
        # by one is accepted by another; a restart makes a new one, and open forms must be
        # reloaded then. Set it to keep forms valid across restarts.
        os.environ[UI_SECRET_ENV] = secrets.token_hex(32)
    auth = AuthSettings(
        auth_mode,
        jwt_jwks,
        jwt_audience,
        jwt_issuer,
        jwt_id_claim,
        jwt_roles_claim,
        auth_user_header,
        auth_roles_header,
    )
    _check_authentication(auth)
    os.environ[METRICS_ENV] = "1" if metrics else "0"
    # Made before anything here makes metrics (a host module's app may, when loaded) and
    # before the workers fork, so that each writes its counters there and a scrape answered
    # by any of them sums them all.
    directory = WorkerMetricsDirectory()
    try:
        with schedule(prune_older_than, prune_every) as prune:
            _serve(host, port, workers, threads, timers, migrate, access_log, url, auth, prune)
    finally:
        directory.close()


def _serve(
    host: str,
    port: int,
    workers: int | None,
    threads: int,
    timers: bool,
    migrate: bool,
    access_log: bool,
    url: str | None,
    auth: AuthSettings,
    prune: PruneSchedule | None,
) -> None:
    spec = app_spec_from_env()
    # First, as it is the cheapest check and changes nothing: a taken port must not leave a
    # database created or migrated behind.
    check_can_listen(host, port)
    # Built once here before any worker starts, so that a wrong --app or --dsn, or a database
    # that cannot serve, is one line now rather than a traceback per worker or a 503 per
    # request. Connections opened here stay in this process: a store opens its own in each
    # worker after the fork.
    store, built_here = load_app(spec, lambda: _database_to_prepare(url, existing=not migrate))
    host_app = spec is not None and host_app_from_env() is not None
    if host_app and auth.mode != "none":
        if store is not None and built_here:
            store.close()
        raise click.UsageError(
            "--auth applies to the app serve makes; a host's own app (--app naming a falcon "
            "app) says it with create_app(flow, authenticate=...)"
        )
    if store is not None:
        try:
            if migrate:
                migrate_database(store, why=DEFAULT_DATABASE if url is None and not spec else "")
            else:
                check_answers(store)
        finally:
            if built_here:
                store.close()
    os.environ.update(auth.environment())
    if auth.mode == "none" and not host_app:
        click.echo(
            "taskflow: no authentication (--auth none): anyone who can reach this address can "
            "read and change every case."
        )
    options = {
        "bind": bind_address(host, port),
        "workers": workers or default_workers(),
        "threads": threads,
        "worker_class": WORKER_CLASS,
        "preload_app": False,
        "proc_name": "taskflow",
        "errorlog": "-",
        "loglevel": "info",
        "logconfig_dict": logconfig(access_log=access_log, app_spec=spec),
        "logger_class": GunicornLogger,
        "when_ready": _when_ready,
        "child_exit": child_exit,
    }
    if prune is not None:
        click.echo(
            f"taskflow: pruning what is older than {age_text(prune.older_than)} every "
            f"{age_text(prune.every)}, from one worker at a time."
        )
    TaskflowServer(options, sweep_timers=timers, prune=prune).run()


def _sign_in_for_workers(values: dict[str, str | None]) -> None:
    """Hand the sign-in's options to the workers, checked now: an incomplete configuration
    is one line before gunicorn starts, not an error in every worker."""
    for name, value in values.items():
        if value:
            os.environ[name] = value
    try:
        signin_from_env()
    except ValueError as error:
        raise click.UsageError(str(error)) from None


def _check_authentication(auth: AuthSettings) -> None:
    """Refuse authentication settings that cannot work now, in one line, rather than with a
    traceback per worker."""
    try:
        auth.authenticator()
    except ValueError as error:
        raise click.UsageError(str(error)) from None


def _database_to_prepare(url: str | None, *, existing: bool) -> tuple[Store | None, bool]:
    """The store to migrate or check before the workers start, and whether it was built for
    that alone (and is closed after). ``existing``: only checked, so a SQLite file that is not
    there is an error, not created."""
    if app_spec_from_env() is None:
        return store_from_url(url, existing=existing), True
    if host_app_from_env() is not None:
        # A host's own falcon app brings its own flow and store: what is prepared is the
        # database --dsn names, if any, as `taskflow migrate --dsn` would.
        return (store_from_url(url) if url else None), True
    # A host's flow is the workers' own, which they inherit through the fork: it stays open.
    return flow_from_env().store, False
