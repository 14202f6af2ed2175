"""taskflow over HTTP: ``create_app(flow)`` returns a falcon WSGI app."""

from .api import create_app

__all__ = ["create_app"]
