"""taskflow over HTTP: ``create_app(flow)`` returns a falcon WSGI app (SPEC §3)."""

from .app import create_app

__all__ = ["create_app"]
