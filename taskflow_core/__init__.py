"""taskflow_core: the framework-free case-workflow engine (stdlib and attrs only)."""

from .errors import (
    Conflict,
    Forbidden,
    HookUsageError,
    InvalidRequest,
    NotFound,
    PreconditionFailed,
    TaskflowError,
)
from .events import CaseHandle, HookEvent
from .model import ActivityEntry, Case
from .ports import ActivityRepository, CaseRepository, Store, UnitOfWork
from .query import ListPage, ListQuery
from .service import Taskflow, default_actor_id

__all__ = [
    "ActivityEntry",
    "ActivityRepository",
    "Case",
    "CaseHandle",
    "CaseRepository",
    "Conflict",
    "Forbidden",
    "HookEvent",
    "HookUsageError",
    "InvalidRequest",
    "ListPage",
    "ListQuery",
    "NotFound",
    "PreconditionFailed",
    "Store",
    "Taskflow",
    "TaskflowError",
    "UnitOfWork",
    "default_actor_id",
]
