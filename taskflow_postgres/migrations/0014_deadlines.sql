-- Deadlines (SPEC §14): where each case's deadline stands, one row per (case, name). The
-- partial indexes keep the listing's "overdue" filter and its sort by the earliest due to
-- the few rows that count, however many deadlines have ended.

create table if not exists deadlines (
  case_id uuid not null references cases (id),
  name text not null,
  state text not null,
  due timestamptz,
  started_at timestamptz,
  remaining double precision,
  prior text,
  primary key (case_id, name)
);

create index if not exists deadlines_due_index on deadlines (due, case_id)
  where state in ('running', 'overdue');
create index if not exists deadlines_overdue_index on deadlines (case_id)
  where state = 'overdue';
