-- How many cases have each status, kept by triggers on `cases`, so that the listing's
-- `?status=` count reads a few rows instead of every matching case.
--
-- Why: the exact count of a status with 20,000 cases is an index-only scan only while the
-- table's visibility map is current; after a burst of writes it visits the heap for every
-- matching row, and the inbox listing fell from 371 to 74-183 req/s in the benchmark
-- (benchmarks/README.md). A count kept by triggers is exact in every snapshot: it is written
-- in the writer's own transaction, so it commits or rolls back with the change.
--
-- Why several rows per status: one counter row per status would serialise every writer that
-- creates or moves a case of that status on its row lock, until commit (and a transaction
-- left open would hold up every other). Each change adds its +1 or -1 to the row of its
-- server process (pg_backend_pid() mod 1024): two transactions running at once share a row
-- only when their processes' ids are 1024 apart. A reader sums a status's rows, one per
-- server process that ever wrote it, 1024 at most.

-- The backfill below must see every case and miss no concurrent change: writers wait for
-- this migration's transaction, whose triggers count their rows once it commits.
lock table cases in share row exclusive mode;

create table if not exists case_status_counts (
  status text not null,
  slot smallint not null,
  cases bigint not null,
  primary key (status, slot)
);

create or replace function taskflow_count_status(counted text, delta integer) returns void
language sql as $$
  insert into case_status_counts as c (status, slot, cases)
  values (counted, (pg_backend_pid() % 1024)::smallint, delta)
  on conflict (status, slot) do update set cases = c.cases + excluded.cases
$$;

create or replace function taskflow_cases_counted() returns trigger
language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    if new.status is not null then perform taskflow_count_status(new.status, 1); end if;
  elsif tg_op = 'DELETE' then
    if old.status is not null then perform taskflow_count_status(old.status, -1); end if;
  -- An update that moves a case takes its two rows in status order, so two transactions
  -- moving cases between the same statuses in opposite directions cannot deadlock.
  elsif new.status is null or (old.status is not null and old.status < new.status) then
    if old.status is not null then perform taskflow_count_status(old.status, -1); end if;
    if new.status is not null then perform taskflow_count_status(new.status, 1); end if;
  else
    if new.status is not null then perform taskflow_count_status(new.status, 1); end if;
    if old.status is not null then perform taskflow_count_status(old.status, -1); end if;
  end if;
  return null;
end
$$;

create or replace function taskflow_cases_truncated() returns trigger
language plpgsql as $$
begin
  delete from case_status_counts;
  return null;
end
$$;

drop trigger if exists cases_counted_on_insert_or_delete on cases;
create trigger cases_counted_on_insert_or_delete
  after insert or delete on cases
  for each row execute function taskflow_cases_counted();

-- Most updates keep the status (data, assignee, comments' version bump): they cost nothing
-- here, as the condition is checked before any function is called.
drop trigger if exists cases_counted_on_status_change on cases;
create trigger cases_counted_on_status_change
  after update of status on cases
  for each row when (old.status is distinct from new.status)
  execute function taskflow_cases_counted();

drop trigger if exists cases_counted_on_truncate on cases;
create trigger cases_counted_on_truncate
  after truncate on cases
  for each statement execute function taskflow_cases_truncated();

delete from case_status_counts;
insert into case_status_counts (status, slot, cases)
  select status, 0, count(*) from cases where status is not null group by status;
