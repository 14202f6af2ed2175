-- PostgreSQL's ceiling for GET /{id}: the store's one query, a case with its whole log.
\set n random(1, :cases)
SELECT "id", "status", "data", "assigned_to", "created_at", "updated_at", "version", (
    SELECT coalesce(json_agg(entry ORDER BY entry.created_at DESC, entry.id DESC), '[]')
    FROM activity_log AS entry WHERE entry.case_id = cases.id
) AS activity
FROM cases WHERE id = md5(:n::text)::uuid;
