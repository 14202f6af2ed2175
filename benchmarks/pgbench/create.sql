-- PostgreSQL's ceiling for POST /: the statements the store sends for it, in one transaction
-- (tests/integration/test_postgres_statements.py): the case, its log entry with its change
-- feed row, the answer read back; then the feed's sequencing step, run after the commit.
\set a random(1, 2147483647)
\set b random(1, 2147483647)
BEGIN;
INSERT INTO cases ("id", "status", "data", "assigned_to", "created_at", "updated_at", "version")
VALUES (md5(:a || '-' || :b || '-' || :client_id)::uuid, 'new', '{"subject": "bench"}', NULL, now(), now(), 1);
WITH entry AS (
    INSERT INTO activity_log ("id", "case_id", "changed_by", "event_name", "event", "comment", "created_at", "updated_at")
    VALUES (gen_random_uuid(), md5(:a || '-' || :b || '-' || :client_id)::uuid, NULL, 'create',
            '{"id": "x", "event": "create", "meta": {"data": {"subject": "bench"}}, "status": "new", "data": {"subject": "bench"}, "assignedTo": null, "req": "r"}',
            NULL, now(), now())
    RETURNING id, case_id
)
INSERT INTO change_feed (case_id, entry_id) SELECT entry.case_id, entry.id FROM entry;
SELECT "id", "status", "data", "assigned_to", "created_at", "updated_at", "version", (
    SELECT coalesce(json_agg(entry ORDER BY entry.created_at DESC, entry.id DESC), '[]')
    FROM activity_log AS entry WHERE entry.case_id = cases.id
) AS activity
FROM cases WHERE id = md5(:a || '-' || :b || '-' || :client_id)::uuid;
END;
-- The feed's sequencing step and its NOTIFY, after the commit (taskflow_postgres/sequencer.py
-- runs one for many commits; here one per transaction, the most it can cost).
SELECT taskflow_sequence_change_feed(true);
