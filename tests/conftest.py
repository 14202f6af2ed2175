"""Fixtures every test folder shares: one fixture per store, each a fresh, migrated store."""

from tests.stores.memory import *  # noqa: F403
from tests.stores.pgbouncer import *  # noqa: F403
from tests.stores.postgres import *  # noqa: F403
from tests.stores.sqlite import *  # noqa: F403
