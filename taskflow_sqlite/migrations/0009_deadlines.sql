-- Deadlines (SPEC §14): where each case's deadline stands, one row per (case, name). The
-- partial indexes serve the listing's overdue filter and its sort by the earliest due.

CREATE TABLE deadlines (
    case_id TEXT NOT NULL REFERENCES cases (id),
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    due TEXT,
    started_at TEXT,
    remaining REAL,
    prior TEXT,
    PRIMARY KEY (case_id, name)
);

CREATE INDEX deadlines_due_index ON deadlines (due, case_id)
    WHERE state IN ('running', 'overdue');
CREATE INDEX deadlines_overdue_index ON deadlines (case_id) WHERE state = 'overdue';
