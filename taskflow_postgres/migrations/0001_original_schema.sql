-- The original taskflow's tables, exactly as its knex migrations leave them, so that a
-- database the original created is adopted in place: on such a database every statement
-- here finds its object already there and changes nothing.
--
-- Differences, none of which touch an existing database: `if not exists` everywhere; the
-- activity id defaults to gen_random_uuid() (core since PostgreSQL 13) instead of
-- uuid_generate_v4(), so the uuid-ossp extension is not needed (the service supplies every
-- id anyway); the foreign key is declared inline, under the original's name, because
-- `alter table ... add constraint` cannot be made conditional without a DO block.

create table if not exists cases (
  id uuid primary key,
  status varchar(255),
  data jsonb,
  created_at timestamptz not null default current_timestamp,
  updated_at timestamptz not null default current_timestamp,
  assigned_to varchar(255)
);

create table if not exists activity_log (
  id uuid primary key default gen_random_uuid(),
  case_id uuid not null
    constraint activity_log_case_id_foreign references cases (id),
  changed_by uuid,
  event_name varchar(255) not null,
  event jsonb not null,
  comment text,
  created_at timestamptz not null default current_timestamp,
  updated_at timestamptz not null default current_timestamp
);

create index if not exists activity_log_changed_by_index on activity_log (changed_by);
create index if not exists activity_log_case_id_index on activity_log (case_id);
