"""taskflow_core: the framework-free case-workflow engine (stdlib and attrs only)."""

from .application.commands import Context, Outcome
from .application.query import ListPage, ListQuery
from .domain.calendar import BusinessCalendar, BusinessDays, holidays_from_lines
from .domain.clock import Clock
from .domain.events import CaseHandle, Hook, HookEvent
from .domain.model import ActivityEntry, Case, IdempotencyRecord
from .domain.workflow import Guard
from .errors import (
    Conflict,
    Forbidden,
    Gone,
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
from .ports import (
    ActivityRepository,
    CaseRepository,
    IdempotencyRepository,
    Store,
    UnitOfWork,
)
from .service import Taskflow, default_actor_id

# The distribution these packages are installed as (pyproject.toml): its version is
# `importlib.metadata.version(DISTRIBUTION)`.
DISTRIBUTION = "taskflow-casework"

__all__ = [
    "DISTRIBUTION",
    "ActivityEntry",
    "ActivityRepository",
    "BusinessCalendar",
    "BusinessDays",
    "Case",
    "CaseHandle",
    "CaseRepository",
    "Clock",
    "Conflict",
    "Context",
    "Forbidden",
    "Gone",
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
    "holidays_from_lines",
]
