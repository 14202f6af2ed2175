"""The environment variables taskflow reads: their names, in one place, and reading them."""

from __future__ import annotations

import os

DATABASE_URL_ENV = "TASKFLOW_DATABASE_URL"
# 1 (or true, yes, on): the PostgreSQL server is reached through a transaction-pooling
# PgBouncer, as ?pgbouncer=true on the URL says too.
PGBOUNCER_ENV = "TASKFLOW_PGBOUNCER"
APP_ENV = "TASKFLOW_APP"
# Set by `taskflow serve` for its workers: each worker's pool holds one connection per thread.
POOL_SIZE_ENV = "TASKFLOW_POOL_SIZE"
# Read by taskflow serve's worker (also under `gunicorn -k`): how long a client may take to
# send a request's head, and then its body.
HEADER_TIMEOUT_ENV = "TASKFLOW_HEADER_TIMEOUT"
BODY_TIMEOUT_ENV = "TASKFLOW_BODY_TIMEOUT"
# 1 (or true, yes, on): GET /_changes answers (`taskflow serve --feed`); else it is 403.
FEED_ENV = "TASKFLOW_FEED"
# 0 (or false, no, off): no case browser under /ui/ (`taskflow serve --no-ui`); on otherwise.
UI_ENV = "TASKFLOW_UI"
# What signs the case browser's form tokens: the same in every worker, or a form rendered by
# one is refused by the next. `taskflow serve` makes one for its workers when it is unset.
UI_SECRET_ENV = "TASKFLOW_UI_SECRET"
# Who is asking (docs/access.md): `jwt`, `headers` or `none` (the default), and what each
# needs: the JWKS URL, audience and issuer of bearer tokens; the claims naming the user and
# roles; the headers an authenticating proxy names them in.
AUTH_ENV = "TASKFLOW_AUTH"
JWT_JWKS_ENV = "TASKFLOW_JWT_JWKS"
JWT_AUDIENCE_ENV = "TASKFLOW_JWT_AUDIENCE"
JWT_ISSUER_ENV = "TASKFLOW_JWT_ISSUER"
JWT_ID_CLAIM_ENV = "TASKFLOW_JWT_ID_CLAIM"
JWT_ROLES_CLAIM_ENV = "TASKFLOW_JWT_ROLES_CLAIM"
AUTH_USER_HEADER_ENV = "TASKFLOW_AUTH_USER_HEADER"
AUTH_ROLES_HEADER_ENV = "TASKFLOW_AUTH_ROLES_HEADER"
# 0 (or false, no, off): the app made here leaves GET /metrics out (taskflow serve
# --no-metrics); anything else, or unset, serves it.
METRICS_ENV = "TASKFLOW_METRICS"
# 1 (or true, yes, on): the plain flow made here (no host module) lets webhooks reach
# private addresses too, as Taskflow(store, allow_private_webhooks=True) does.
WEBHOOK_ALLOW_PRIVATE_ENV = "TASKFLOW_WEBHOOK_ALLOW_PRIVATE"
# The key webhook secrets are sealed with (base64 of 32 bytes), and earlier ones,
# comma-separated, that still open what they sealed (taskflow_compose/sealing.py).
SECRET_KEY_ENV = "TASKFLOW_SECRET_KEY"
SECRET_KEYS_OLD_ENV = "TASKFLOW_SECRET_KEYS_OLD"
# The pages' OpenID Connect sign-in (taskflow_compose/signin.py): the provider's issuer (the
# one bearer tokens come from too), this app as registered there, and the key signing the
# session cookies, the same in every worker and on every machine.
JWT_ISSUER_ENV = "TASKFLOW_JWT_ISSUER"
OIDC_CLIENT_ID_ENV = "TASKFLOW_OIDC_CLIENT_ID"
OIDC_CLIENT_SECRET_ENV = "TASKFLOW_OIDC_CLIENT_SECRET"
SESSION_SECRET_ENV = "TASKFLOW_SESSION_SECRET"

# `taskflow serve --prune-older-than AGE --prune-every AGE` (30d, 12h, 90m, 45s): the workers
# prune what is older than the first, every second (docs/integrations.md, "Pruning").
PRUNE_OLDER_THAN_ENV = "TASKFLOW_PRUNE_OLDER_THAN"
PRUNE_EVERY_ENV = "TASKFLOW_PRUNE_EVERY"

# libpq reads these itself for whatever a DSN and options leave out; any of them set means
# the environment names a PostgreSQL server.
PG_VARIABLES = ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGSERVICE")


# Said when no option or variable names a database: a newcomer then knows which file, and
# how to name another.
DEFAULT_DATABASE = " (the default: no --dsn, $TASKFLOW_DATABASE_URL or PG* variable names one)"


def database_url(explicit: str | None = None) -> str | None:
    """The database, by the one rule of every command and of ``get_app()``: an explicit URL
    (``--dsn``), else ``TASKFLOW_DATABASE_URL``, else PostgreSQL when a ``PG*`` variable
    names a server (``postgresql://``: libpq reads the variables), else None: the embedded
    SQLite file."""
    url = explicit or os.environ.get(DATABASE_URL_ENV) or None
    if url is None and names_postgres_server():
        return "postgresql://"
    return url


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def through_pgbouncer() -> bool:
    """Whether ``TASKFLOW_PGBOUNCER`` says PostgreSQL is reached through PgBouncer."""
    return _flag(PGBOUNCER_ENV)


def feed_over_http() -> bool:
    """Whether ``TASKFLOW_FEED`` turns ``GET /_changes`` on."""
    return _flag(FEED_ENV)


def ui_over_http() -> bool:
    """Whether the case browser is served: unless ``TASKFLOW_UI`` says 0, false, no or off."""
    return os.environ.get(UI_ENV, "").strip().lower() not in ("0", "false", "no", "off")


def ui_secret() -> bytes | None:
    """``TASKFLOW_UI_SECRET`` as bytes, or None when unset."""
    value = os.environ.get(UI_SECRET_ENV, "")
    return value.encode() if value else None


def metrics_over_http() -> bool:
    """Whether ``GET /metrics`` answers: unless ``TASKFLOW_METRICS`` turns it off."""
    value = os.environ.get(METRICS_ENV, "").strip().lower()
    return value not in ("0", "false", "no", "off")


def webhooks_allow_private() -> bool:
    """Whether ``TASKFLOW_WEBHOOK_ALLOW_PRIVATE`` lets a plain flow's webhooks reach
    private and other non-public addresses."""
    return _flag(WEBHOOK_ALLOW_PRIVATE_ENV)


def app_spec() -> str | None:
    """``module:attr`` of the host's flow or app, from ``TASKFLOW_APP``."""
    return os.environ.get(APP_ENV) or None


def pool_size() -> int | None:
    value = os.environ.get(POOL_SIZE_ENV)
    return int(value) if value else None


def names_postgres_server() -> bool:
    """Whether a ``PG*`` variable names a PostgreSQL server."""
    return any(os.environ.get(name) for name in PG_VARIABLES)
