"""The PgBouncer switch as a URL spells it: ``postgresql://...?pgbouncer=true``, taken off
before libpq sees the URL (libpq refuses query parameters it does not know)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

PARAMETER = "pgbouncer"
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def take_switch(dsn: str) -> tuple[str, bool]:
    """The DSN without the ``pgbouncer`` query parameter, and whether it turned the switch on.

    A libpq ``key=value`` string is returned as it is: libpq refuses the unknown key there,
    and the switch is then ``pgbouncer=True`` or ``TASKFLOW_PGBOUNCER``.
    """
    if not dsn.startswith(("postgresql://", "postgres://")):
        return dsn, False
    parts = urlsplit(dsn)
    # The other parameters are kept byte for byte: decoding and encoding them again would
    # turn a '+' (a plus sign to libpq) into a space.
    kept, values = [], []
    for item in parts.query.split("&") if parts.query else []:
        key, _, value = item.partition("=")
        if unquote(key) != PARAMETER:
            kept.append(item)
        elif unquote(value).lower() in _TRUE + _FALSE:
            values.append(unquote(value).lower() in _TRUE)
        else:
            raise ValueError(f"{PARAMETER}={unquote(value)} in the database URL: true or false")
    if not values:
        return dsn, False
    return urlunsplit(parts._replace(query="&".join(kept))), values[-1]
