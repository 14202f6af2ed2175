"""Deprecated: the gunicorn entry point is ``taskflow_compose.wsgi:get_app()``.

``gunicorn 'taskflow_falcon.app:get_app()'`` keeps working for existing deployments. This is
the one module of ``taskflow_falcon`` that imports the package above it (composition), which
tests/unit/test_imports.py allows here and nowhere else.
"""

from __future__ import annotations

from taskflow_compose.wsgi import get_app

from .api import create_app

__all__ = ["create_app", "get_app"]
