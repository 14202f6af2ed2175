"""Cases with big activity logs, written straight into a store's tables (rows sent one
request at a time would take minutes): each entry an ``update`` whose event carries
``items`` small objects, as real payloads do, and a row in the change feed."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

import psycopg

_PG_SEED = """
WITH c AS (
    INSERT INTO cases (id, status, data, created_at, updated_at)
    VALUES (%(id)s, 'new', '{}', now(), now()) RETURNING id
), e AS (
    INSERT INTO activity_log (id, case_id, event_name, event, created_at, updated_at)
    SELECT gen_random_uuid(), c.id, 'update',
           jsonb_build_object('event', 'update', 'meta', jsonb_build_object('n', i) || blob.data),
           now() + i * interval '1 ms', now() + i * interval '1 ms'
    FROM c, generate_series(1, %(entries)s) AS i,
         (SELECT jsonb_build_object('items', jsonb_agg(jsonb_build_object(
              'n', g, 'text', repeat(md5(g::text), 3)))) AS data
          FROM generate_series(1, %(items)s) AS g) AS blob
    ORDER BY i
    RETURNING id, case_id
)
INSERT INTO change_feed (case_id, entry_id) SELECT case_id, id FROM e
"""


def seed_postgres(dsn: str, entries: int, items: int) -> str:
    """A case with ``entries`` entries of ``items`` objects each; its id."""
    case_id = str(uuid.uuid4())
    with psycopg.connect(dsn) as db:
        db.execute(_PG_SEED, {"id": case_id, "entries": entries, "items": items})
        db.commit()
        db.execute("SELECT taskflow_sequence_change_feed(false)")
    return case_id


def seed_sqlite(path: Path, entries: int, items: int) -> str:
    """A case with ``entries`` entries of ``items`` objects each; its id."""
    blob = [{"n": g, "text": f"{g:032x}" * 3} for g in range(items)]
    case_id = str(uuid.uuid4())
    with sqlite3.connect(path) as db:
        for n in range(entries):
            at = f"2026-01-01T00:00:{n // 1000:02d}.{n % 1000:03d}000+00:00"
            if n == 0:
                db.execute(
                    "INSERT INTO cases (id, status, data, created_at, updated_at, version)"
                    " VALUES (?, 'new', '{}', ?, ?, 1)",
                    (case_id, at, at),
                )
            entry_id = str(uuid.uuid4())
            event = json.dumps({"event": "update", "meta": {"n": n, "items": blob}})
            db.execute(
                "INSERT INTO activity_log (id, case_id, event_name, event, created_at,"
                " updated_at) VALUES (?, ?, 'update', ?, ?, ?)",
                (entry_id, case_id, event, at, at),
            )
            db.execute("INSERT INTO change_feed (entry_id) VALUES (?)", (entry_id,))
    return case_id
