"""From configuration to a flow: a host module's configured ``Taskflow``, or a plain one."""

from __future__ import annotations

import importlib

from taskflow_core import Taskflow

from .environment import webhooks_allow_private
from .sealing import sealer_from_environment
from .stores import store_from_url


def load_attr(spec: str) -> object:
    """The object ``module:attr`` names (``attr`` defaults to ``flow``)."""
    module_name, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module_name), attr or "flow")


def load_flow(app_spec: str | None, url: str | None, **store_options: object) -> Taskflow:
    """The host's configured flow (``module:attr``), else a plain flow on the URL's store.

    A host module may name a ``Taskflow`` object, or a callable returning one. When it has no
    store of its own configured this is where it gets one. ``store_options`` (e.g. the
    pool's ``max_size``) go to the store made here, not to a host module's own store. The
    plain flow lets webhooks reach private addresses when ``TASKFLOW_WEBHOOK_ALLOW_PRIVATE``
    says so, and opens sealed webhook secrets with ``TASKFLOW_SECRET_KEY`` (a host's flow
    says both itself).
    """
    if app_spec:
        target = load_attr(app_spec)
        flow = target() if callable(target) and not isinstance(target, Taskflow) else target
        if not isinstance(flow, Taskflow):
            raise TypeError(f"{app_spec} is not a taskflow_core.Taskflow")
        return flow
    store = store_from_url(url, **store_options)
    return Taskflow(
        store,
        allow_private_webhooks=webhooks_allow_private(),
        secrets=sealer_from_environment(),
    )
