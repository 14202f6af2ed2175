-- Timers: one per (case, name). fire_at is when a sweep next tries it (the due time, or
-- later after a failed attempt); the index keeps "what is due" a range scan however many
-- timers are pending.

CREATE TABLE timers (
    case_id TEXT NOT NULL REFERENCES cases (id),
    name TEXT NOT NULL,
    due TEXT NOT NULL,
    fire_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    PRIMARY KEY (case_id, name)
);

CREATE INDEX timers_fire_at_index ON timers (fire_at);
