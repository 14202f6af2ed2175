-- The tables of the PostgreSQL store, in SQLite's terms: the same names and columns, so a
-- case or entry reads the same from either. UUIDs are text (the canonical lowercase form,
-- whose text order is PostgreSQL's uuid order), JSON is text, and timestamps are fixed-width
-- ISO-8601 text in UTC, so comparing the text compares the instants.

CREATE TABLE cases (
    id TEXT PRIMARY KEY NOT NULL,
    status TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    assigned_to TEXT
);

CREATE TABLE activity_log (
    id TEXT PRIMARY KEY NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases (id),
    changed_by TEXT,
    event_name TEXT NOT NULL,
    event TEXT NOT NULL,
    comment TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- The listing filters and its default order (creation order, ties broken by id).
CREATE INDEX cases_status_index ON cases (status);
CREATE INDEX cases_assigned_to_index ON cases (assigned_to);
CREATE INDEX cases_created_at_id_index ON cases (created_at, id);

-- A case's activity log, newest first, is read from this index alone.
CREATE INDEX activity_log_case_id_created_at_index ON activity_log (case_id, created_at, id);
-- The original has it (to find what one actor did); kept so the schemas stay alike.
CREATE INDEX activity_log_changed_by_index ON activity_log (changed_by);
