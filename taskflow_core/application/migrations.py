"""What a store's migration runner checks before it applies anything: that the migrations a
database has recorded are the ones this release ships, under the same number, unedited.

Each store keeps its own table (``taskflow_migrations``) and its own SQL; both runners call
``check_history`` with what they ship and what the database recorded, so an edited or
renumbered migration stops ``migrate`` with one clear message instead of being skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from ..errors import MigrationFailed


class Shipped(NamedTuple):
    version: int
    name: str
    checksum: str


class Recorded(NamedTuple):
    name: str
    checksum: str | None  # None: applied by a release that kept no checksums


def checksum(script: bytes) -> str:
    return hashlib.sha256(script).hexdigest()


def version_of(name: str) -> int:
    """``0007_change_feed`` -> 7."""
    return int(name.split("_", 1)[0])


def check_history(shipped: Sequence[Shipped], recorded: Mapping[int, Recorded]) -> None:
    """MigrationFailed when two shipped migrations share a number, or one the database
    recorded was renamed or edited since it was applied."""
    names: dict[int, str] = {}
    for migration in shipped:
        if migration.version in names:
            raise MigrationFailed(
                f"two migrations are numbered {migration.version}: "
                f"{names[migration.version]} and {migration.name}; renumber one"
            )
        names[migration.version] = migration.name
    for migration in shipped:
        applied = recorded.get(migration.version)
        if applied is None:
            continue
        if applied.name != migration.name:
            raise MigrationFailed(
                f"migration {migration.version} was applied as {applied.name}, but this "
                f"release ships {migration.name} under that number; renumber the new one"
            )
        if applied.checksum is not None and applied.checksum != migration.checksum:
            raise MigrationFailed(
                f"migration {migration.name} was edited after it was applied (its checksum "
                "differs); restore it, and ship the change as a new migration"
            )
