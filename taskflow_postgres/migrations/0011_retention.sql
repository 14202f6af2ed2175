-- What `taskflow prune` needs (taskflow_core/application/retention.py).
-- The last change pruned from the feed: a reader whose cursor is before it missed changes,
-- and is told where to start again. One row at most.
create table if not exists change_feed_pruned (
  id integer primary key check (id = 1),
  last_seq bigint not null
);

-- Deliveries that ended, oldest first.
create index if not exists webhook_deliveries_ended_index on webhook_deliveries (created_at)
  where status <> 'pending';
