-- PostgreSQL's ceiling for PUT /{id}/status: lock the row, change it, log it.
\set n random(1, :cases)
BEGIN;
SELECT id, status, data, created_at, updated_at, assigned_to FROM cases WHERE id = md5(:n::text)::uuid FOR UPDATE;
UPDATE cases SET status = 'open', updated_at = now() WHERE id = md5(:n::text)::uuid;
INSERT INTO activity_log (id, case_id, changed_by, event_name, event, comment, created_at, updated_at)
VALUES (gen_random_uuid(), md5(:n::text)::uuid, NULL, 'status:open:open',
        '{"event": "status:open:open", "meta": {"previous": "open", "next": "open"}}', NULL, now(), now());
END;
