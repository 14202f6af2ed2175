-- PostgreSQL's ceiling for PUT /{id}/status: the statements the store sends for it
-- (tests/integration/test_postgres_statements.py): lock the case, update it (its version
-- too), log the change with its change feed row (and NOTIFY), read the answer back.
\set n random(1, :cases)
\set s random(1, 3)
BEGIN;
SELECT "id", "status", "data", "assigned_to", "created_at", "updated_at", "version"
FROM cases WHERE id = md5(:n::text)::uuid FOR UPDATE;
UPDATE cases SET status = (ARRAY['open', 'in-review', 'awaiting-info'])[:s], data = data,
    assigned_to = assigned_to, updated_at = now(), version = version + 1
WHERE id = md5(:n::text)::uuid;
WITH entry AS (
    INSERT INTO activity_log ("id", "case_id", "changed_by", "event_name", "event", "comment", "created_at", "updated_at")
    VALUES (gen_random_uuid(), md5(:n::text)::uuid, NULL, 'status:open:open',
            '{"id": "x", "event": "status:open:open", "meta": {"previous": "open", "next": "open"}, "status": "open", "data": {"subject": "bench"}, "assignedTo": null, "req": "r"}',
            NULL, now(), now())
    RETURNING id, case_id
)
INSERT INTO change_feed (txid, case_id, entry_id)
SELECT greatest(
    pg_current_xact_id()::text::bigint,
    (SELECT max(f.txid) FROM change_feed AS f WHERE f.case_id = entry.case_id)
), entry.case_id, entry.id
FROM entry;
SELECT "id", "status", "data", "assigned_to", "created_at", "updated_at", "version", (
    SELECT coalesce(json_agg(entry ORDER BY entry.created_at DESC, entry.id DESC), '[]')
    FROM activity_log AS entry WHERE entry.case_id = cases.id
) AS activity
FROM cases WHERE id = md5(:n::text)::uuid;
END;
