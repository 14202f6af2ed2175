"""The in-memory store: a real, transactional store in process memory, for host apps' tests.

An adapter like the SQL stores, kept in the core so that a host's tests need nothing else.
"""

from .store import MemoryStore

__all__ = ["MemoryStore"]
