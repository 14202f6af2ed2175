-- Requests made under an Idempotency-Key, and their answers, so that a request sent again
-- gets the same answer and changes nothing. One row per key and scope (an actor, or every
-- anonymous caller): a request inserts it first thing in its transaction, so a second
-- request with the same key waits on the primary key until the first commits (then replays
-- its answer) or rolls back (then runs itself). status, body and version stay null until
-- the request has answered, in the same transaction.

create table if not exists idempotency_keys (
  scope text not null,
  key text not null,
  fingerprint text not null,
  status smallint,
  body bytea,
  version bigint,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  primary key (scope, key)
);

-- Each answered request deletes a few expired rows: found by this index at once, and none
-- at all when nothing has expired.
create index if not exists idempotency_keys_expires_at_index on idempotency_keys (expires_at);
