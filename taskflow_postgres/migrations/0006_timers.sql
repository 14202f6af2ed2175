-- Timers: one per (case, name). fire_at is when a sweep next tries it (the due time, or
-- later after a failed attempt). Sweeps ask for the earliest fire_at up to now, skipping
-- rows other sweepers hold: the btree on fire_at answers that from its first entries, however
-- many millions of timers are pending.

create table if not exists timers (
  case_id uuid not null references cases (id),
  name text not null,
  due timestamptz not null,
  fire_at timestamptz not null,
  attempts integer not null default 0,
  last_error text,
  primary key (case_id, name)
);

create index if not exists timers_fire_at_index on timers (fire_at);
