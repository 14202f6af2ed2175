"""Which database a connection string names, as libpq resolves it, told without the password."""

from __future__ import annotations

from urllib.parse import quote

from psycopg import pq
from psycopg.conninfo import conninfo_to_dict

_SHOWN = ("host", "port", "user", "dbname")


def resolved(conninfo: str) -> dict[str, str]:
    """Host, port, user and database name as libpq would connect: the connection string,
    else the ``PG*`` variables, else libpq's defaults (the database defaults to the user's
    name; a missing host is the local socket, and is left out)."""
    given = conninfo_to_dict(conninfo)
    defaults = {
        option.keyword.decode(): option.val.decode()
        for option in pq.Conninfo.get_defaults()
        if option.val is not None
    }
    parts = {key: str(given.get(key) or defaults.get(key) or "") for key in _SHOWN}
    parts["dbname"] = parts["dbname"] or parts["user"]
    return {key: value for key, value in parts.items() if value}


def display(conninfo: str) -> str:
    """``postgresql://user@host:port/dbname``: the database named, never the password."""
    parts = resolved(conninfo)
    user = quote(parts.get("user", ""), safe="")
    dbname = quote(parts.get("dbname", ""), safe="")
    host, port = parts.get("host", ""), parts.get("port", "").strip(",")
    if host and not host.startswith("/") and "," not in host:
        authority = f"[{host}]" if ":" in host else host
        return f"postgresql://{user}@{authority}{f':{port}' if port else ''}/{dbname}"
    # The local socket, a socket directory, or several hosts: a URL's authority holds none
    # of them, its query does.
    query = {"host": host, "port": port}
    shown = "&".join(f"{key}={quote(value, safe='/,')}" for key, value in query.items() if value)
    return f"postgresql://{user}@/{dbname}{f'?{shown}' if shown else ''}"
