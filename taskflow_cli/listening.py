"""Whether ``taskflow serve`` can listen where it is asked to, told before gunicorn starts."""

from __future__ import annotations

import errno
import socket

import click


def bind_address(host: str, port: int) -> str:
    """gunicorn's ``bind`` setting: an IPv6 address in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def check_can_listen(host: str, port: int) -> None:
    """Return when ``host:port`` can be bound now; else a one-line ClickException.

    gunicorn retries an address it cannot bind five times, a second apart and two log lines
    each, before it gives up: a port already taken is better said at once.
    """
    if port == 0:
        return  # the system picks a free one
    where = bind_address(host, port)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            # As gunicorn binds: a port held only by closed connections (TIME_WAIT) is free.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
    except socket.gaierror as exc:
        reason = f"unknown host ({exc.strerror})"
        raise click.ClickException(f"cannot listen on {where}: {reason}") from exc
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            reason = "the port is already in use; choose another with --port"
        else:
            reason = exc.strerror or str(exc)
        raise click.ClickException(f"cannot listen on {where}: {reason}") from exc
