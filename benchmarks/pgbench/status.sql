-- PostgreSQL's ceiling for PUT /{id}/status: the statements the store sends for it, in one
-- transaction (tests/integration/test_postgres_statements.py): lock the case, update it (its
-- version too), log the change with its change feed row, read the answer back; then the
-- feed's sequencing step, run after the commit.
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
INSERT INTO change_feed (case_id, entry_id) SELECT entry.case_id, entry.id FROM entry;
SELECT "id", "status", "data", "assigned_to", "created_at", "updated_at", "version", (
    SELECT coalesce(json_agg(entry ORDER BY entry.created_at DESC, entry.id DESC), '[]')
    FROM activity_log AS entry WHERE entry.case_id = cases.id
) AS activity
FROM cases WHERE id = md5(:n::text)::uuid;
END;
-- The feed's sequencing step and its NOTIFY, after the commit (taskflow_postgres/sequencer.py
-- runs one for many commits; here one per transaction, the most it can cost).
SELECT taskflow_sequence_change_feed(true);
