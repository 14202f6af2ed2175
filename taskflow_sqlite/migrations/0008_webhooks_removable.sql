-- A subscription can be removed (flow.unsubscribe) while its deliveries stay as the cases'
-- history: a delivery names the URL it was for, no longer a row that must exist. SQLite
-- drops a foreign key only by rebuilding the table.

CREATE TABLE webhook_deliveries_new (
    id TEXT PRIMARY KEY NOT NULL,
    webhook_url TEXT NOT NULL,
    change_tx INTEGER NOT NULL,
    change_seq INTEGER NOT NULL,
    case_id TEXT NOT NULL,
    event_name TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    next_attempt_at TEXT,
    claim TEXT,
    claimed_until TEXT,
    last_error TEXT,
    UNIQUE (webhook_url, change_tx, change_seq)
);
INSERT INTO webhook_deliveries_new SELECT
    id, webhook_url, change_tx, change_seq, case_id, event_name, status, attempts,
    created_at, next_attempt_at, claim, claimed_until, last_error
FROM webhook_deliveries;
DROP TABLE webhook_deliveries;
ALTER TABLE webhook_deliveries_new RENAME TO webhook_deliveries;

CREATE INDEX webhook_deliveries_due_index ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_waiting_index
    ON webhook_deliveries (webhook_url, case_id, change_tx, change_seq)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_case_id_index ON webhook_deliveries (case_id);
