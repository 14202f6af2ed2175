-- The change feed's positions, given by a sequencer after commit (taskflow_postgres/changes.py
-- explains why no reader then waits for transactions that never write to the feed).
--
-- seq: the row's place in the feed, 1, 2, 3, ... with no gap; null until a sequencing step
-- has seen the row committed. Writers leave it null.
alter table change_feed add column if not exists seq bigint;

-- The rows already in the feed keep their order: (txid, id), as readers were served them.
update change_feed as f set seq = ordered.n
from (select id, row_number() over (order by txid, id) as n from change_feed) as ordered
where f.id = ordered.id and f.seq is null;

-- New rows have no txid. Rows written before keep theirs, so that a cursor handed out before
-- this migration, a (txid, id), still says how far its reader had read.
alter table change_feed alter column txid drop not null;

-- Readers go by position; the sequencer takes the next ones after the greatest.
create unique index if not exists change_feed_seq_index on change_feed (seq);
-- What a sequencing step has to do: only rows still waiting for a position are indexed.
create index if not exists change_feed_unsequenced_index on change_feed (id) where seq is null;
-- Translating an old cursor: the last row at or before it, among the rows written before.
create index if not exists change_feed_old_position_index on change_feed (txid, id)
  where txid is not null;
drop index if exists change_feed_txid_id_index;
-- Writers no longer look up their case's latest txid.
drop index if exists change_feed_case_id_txid_index;

-- Webhooks: how far each has been fanned out, and their deliveries' changes, as positions.
-- A position is stored as (0, seq) in the (txid, id) columns: a txid is never 0.
update webhooks as w set cursor_id = coalesce((
    select f.seq from change_feed as f
    where f.txid is not null and (f.txid, f.id) <= (w.cursor_txid, w.cursor_id)
    order by f.txid desc, f.id desc
    limit 1
  ), 0), cursor_txid = 0
where w.cursor_txid > 0;

update webhook_deliveries as d set change_txid = 0, change_id = f.seq
from change_feed as f
where d.change_txid > 0 and f.txid = d.change_txid and f.id = d.change_id;

-- One sequencing step: every committed row without a position gets the next ones, in the
-- order the rows were written (their id), in one statement; then, when asked to, readers
-- waiting on LISTEN are woken. Volatile, so each statement below takes a snapshot of its
-- own, after the lock is held: it sees every step that ran before it committed.
create or replace function taskflow_sequence_change_feed(wake boolean) returns bigint
language plpgsql volatile as $$
declare
  last bigint;
  done bigint;
begin
  -- Nothing to do (the common case for a reader): no lock, no write.
  if not exists (select 1 from change_feed where seq is null) then
    return 0;
  end if;
  -- One step at a time in this database; released when the step's transaction ends.
  perform pg_advisory_xact_lock(2053558898);
  select coalesce(max(seq), 0) into last from change_feed;
  update change_feed as f set seq = last + todo.n
  from (
    select id, row_number() over (order by id) as n from change_feed where seq is null
  ) as todo
  where f.id = todo.id;
  get diagnostics done = row_count;
  if done > 0 and wake then
    perform pg_notify('taskflow_change_feed', '');
  end if;
  return done;
end
$$;
