"""taskflow_client: the operations of ``Taskflow`` over HTTP, retried safely (SPEC §19).

Depends on ``taskflow_core`` for its errors and value types, and on httpx; nothing else of
taskflow's, so a service calling a remote taskflow needs no store or web framework.
"""

from .client import Client
from .errors import (
    ClientError,
    RequestTimeout,
    ServerError,
    TransportError,
    Unauthorized,
    UnexpectedResponse,
)
from .transport import Backoff
from .webhooks import WebhookVerificationError, verify_webhook

__all__ = [
    "Backoff",
    "Client",
    "ClientError",
    "RequestTimeout",
    "ServerError",
    "TransportError",
    "Unauthorized",
    "UnexpectedResponse",
    "WebhookVerificationError",
    "verify_webhook",
]
