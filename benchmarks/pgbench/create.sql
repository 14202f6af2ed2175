-- PostgreSQL's ceiling for POST /: a case and its log entry, in one transaction.
\set a random(1, 2147483647)
\set b random(1, 2147483647)
BEGIN;
INSERT INTO cases (id, status, data, assigned_to, created_at, updated_at)
VALUES (md5(:a || '-' || :b || '-' || :client_id)::uuid, 'new', '{"subject": "bench"}', NULL, now(), now());
INSERT INTO activity_log (id, case_id, changed_by, event_name, event, comment, created_at, updated_at)
VALUES (gen_random_uuid(), md5(:a || '-' || :b || '-' || :client_id)::uuid, NULL, 'create',
        '{"event": "create", "meta": {"data": {"subject": "bench"}}}', NULL, now(), now());
END;
