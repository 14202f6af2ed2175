"""The names of the migrations each SQL store ships, oldest first, for tests that check
exactly which were applied."""

from taskflow_postgres import migrate as postgres_migrations
from taskflow_sqlite import migrations as sqlite_migrations

POSTGRES_MIGRATIONS = [migration.name for migration in postgres_migrations.available()]
SQLITE_MIGRATIONS = [name for name, _ in sqlite_migrations.available()]
