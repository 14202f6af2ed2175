-- The change feed, and webhooks fed from it.
--
-- A database has one writer at a time here, so the order feed rows are written in is their
-- commit order, and a plain sequence is the feed's position. AUTOINCREMENT: a number is never
-- handed out twice, even if the newest rows are deleted.

CREATE TABLE change_feed (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id TEXT NOT NULL REFERENCES activity_log (id)
);

-- One row per subscribed URL; cursor_tx/cursor_seq: how far the feed has been turned into
-- deliveries for it. events is a JSON array of patterns.
CREATE TABLE webhooks (
    url TEXT PRIMARY KEY NOT NULL,
    events TEXT NOT NULL,
    secret TEXT,
    cursor_tx INTEGER,
    cursor_seq INTEGER
);

-- An event on its way to a webhook. next_attempt_at is NULL while an earlier event of the
-- same case is pending for the same webhook.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    webhook_url TEXT NOT NULL REFERENCES webhooks (url),
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

-- What a relay claims next: only pending rows are indexed, so delivered history costs the
-- claim nothing.
CREATE INDEX webhook_deliveries_due_index ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
-- The pending events of one webhook and case, oldest first: the next one to make due.
CREATE INDEX webhook_deliveries_waiting_index
    ON webhook_deliveries (webhook_url, case_id, change_tx, change_seq)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_case_id_index ON webhook_deliveries (case_id);
