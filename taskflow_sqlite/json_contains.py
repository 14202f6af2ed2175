"""JSON containment (PostgreSQL's ``jsonb @>``) as a SQLite SQL function for the listing.

SQLite has no containment operator, and composing one from ``json_each`` differs from
PostgreSQL at the edges (arrays nested in arrays, ``1`` vs ``true``). Registering the core's
own ``json_contains`` makes it exact and the same as MemoryStore's; the listing calls it as
``json_contains(data, ?)``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from taskflow_core.domain.json_values import json_contains as contains

SQL_NAME = "json_contains"


def json_contains(document: str | None, wanted: str | None) -> int | None:
    """The SQL function: 1 if the JSON text ``document`` contains ``wanted``, else 0.

    NULL in, NULL out, as ``NULL @> x`` is in PostgreSQL.
    """
    if document is None or wanted is None:
        return None
    return int(contains(json.loads(document), _parse_wanted(wanted)))


@lru_cache(maxsize=32)
def _parse_wanted(text: str) -> Any:
    # One filter is compared with every row of the table; parse it once. Only read, never
    # changed, so sharing the parsed value between calls is safe.
    return json.loads(text)
