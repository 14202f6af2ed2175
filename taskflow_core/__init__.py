"""taskflow_core: the framework-free case-workflow engine (stdlib and attrs only)."""

from .clock import Clock
from .commands import Context, Outcome
from .errors import (
    Conflict,
    Forbidden,
    HookUsageError,
    IdempotencyKeyReused,
    InvalidRequest,
    MigrationFailed,
    NotFound,
    PreconditionFailed,
    StoreError,
    StoreUnavailable,
    TaskflowError,
)
from .events import CaseHandle, Hook, HookEvent
from .model import ActivityEntry, Case, IdempotencyRecord
from .ports import (
    ActivityRepository,
    CaseRepository,
    IdempotencyRepository,
    Store,
    UnitOfWork,
)
from .query import ListPage, ListQuery
from .service import Taskflow, default_actor_id
from .workflow import Guard

__all__ = [
    "ActivityEntry",
    "ActivityRepository",
    "Case",
    "CaseHandle",
    "CaseRepository",
    "Clock",
    "Conflict",
    "Context",
    "Forbidden",
    "Guard",
    "Hook",
    "HookEvent",
    "HookUsageError",
    "IdempotencyKeyReused",
    "IdempotencyRecord",
    "IdempotencyRepository",
    "InvalidRequest",
    "ListPage",
    "ListQuery",
    "MigrationFailed",
    "NotFound",
    "Outcome",
    "PreconditionFailed",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "Taskflow",
    "TaskflowError",
    "UnitOfWork",
    "default_actor_id",
]
