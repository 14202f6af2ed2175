"""The flow `benchmarks` serves to measure the change feed's NOTIFY: the same store, with
waiting feed readers polling instead (`PostgresStore(notify=False)`)."""

from __future__ import annotations

from taskflow_compose import database_url
from taskflow_core import Taskflow
from taskflow_postgres import PostgresStore

flow = Taskflow(PostgresStore(database_url(), notify=False))
