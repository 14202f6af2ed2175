-- The change feed: one row per activity entry, written in the entry's transaction.
--
-- Readers take rows in (txid, id) order, and only rows whose txid is below their snapshot's
-- xmin; txid is at least the id of the transaction that wrote the row.
-- taskflow_postgres/changes.py explains why a reader resuming from the last row it read
-- then never misses one.

create table if not exists change_feed (
  id bigserial primary key,
  txid bigint not null,
  case_id uuid not null,
  entry_id uuid not null references activity_log (id)
);

-- The feed's order, for readers resuming from a position.
create index if not exists change_feed_txid_id_index on change_feed (txid, id);

-- A writer looks up the case's latest txid (one index probe): see changes.py.
create index if not exists change_feed_case_id_txid_index on change_feed (case_id, txid);
