-- What `taskflow prune` needs (taskflow_core/application/retention.py).
-- The last change pruned from the feed: a reader whose cursor is before it missed changes,
-- and is told where to start again.
CREATE TABLE change_feed_pruned (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_id INTEGER NOT NULL
);

-- Deliveries that ended, oldest first.
CREATE INDEX webhook_deliveries_ended_index ON webhook_deliveries (created_at)
    WHERE status <> 'pending';
