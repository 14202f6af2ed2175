-- Webhooks fed from the change feed, and their deliveries.

-- One row per subscribed URL. cursor_txid/cursor_id: how far the feed has been turned into
-- deliveries for it. events: a JSON array of patterns.
create table if not exists webhooks (
  url text primary key,
  events jsonb not null,
  secret text,
  cursor_txid bigint,
  cursor_id bigint
);

-- An event on its way to a webhook. next_attempt_at is null while an earlier event of the
-- same case is pending for the same webhook; claim and claimed_until: the relay sending it,
-- and until when the claim holds.
create table if not exists webhook_deliveries (
  id uuid primary key,
  webhook_url text not null references webhooks (url),
  change_txid bigint not null,
  change_id bigint not null,
  case_id uuid not null,
  event_name text not null,
  status text not null,
  attempts integer not null default 0,
  created_at timestamptz not null,
  next_attempt_at timestamptz,
  claim uuid,
  claimed_until timestamptz,
  last_error text,
  unique (webhook_url, change_txid, change_id)
);

-- What a relay claims next: only pending rows are indexed, so the history of delivered
-- events costs a claim nothing however long it grows.
create index if not exists webhook_deliveries_due_index on webhook_deliveries (next_attempt_at)
  where status = 'pending';

-- The pending events of one webhook and case, oldest first: the next one to make due.
create index if not exists webhook_deliveries_waiting_index
  on webhook_deliveries (webhook_url, case_id, change_txid, change_id)
  where status = 'pending';

create index if not exists webhook_deliveries_case_id_index on webhook_deliveries (case_id);
