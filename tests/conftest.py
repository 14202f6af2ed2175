"""Fixtures every test folder shares: one fixture per store, each a fresh, migrated store."""

from tests.stores.memory import *  # noqa: F403
