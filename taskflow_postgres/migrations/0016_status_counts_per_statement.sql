-- The per-status counts of 0009_status_counts.sql, kept per statement instead of per row for
-- inserts and deletes: a statement adding or removing many cases (adopting a large database,
-- an import: INSERT ... SELECT) adds one aggregated row per status to case_status_counts
-- instead of calling a function for every case. Issue 34, item 6; the measurements are in
-- benchmarks/README.md ("Bulk loading").
--
-- The counts stay exact as before: the statement's transition table holds exactly the rows
-- it inserted (or deleted), and the UPSERT runs in the writer's own transaction, so it commits
-- or rolls back with them. Writers still add to the row of their own server process
-- (pg_backend_pid() mod 1024), so two transactions running at once do not wait for each
-- other; and a statement takes its rows in status order, so two statements cannot deadlock.
--
-- Status changes stay per row. PostgreSQL refuses transition tables on a trigger with a column
-- list (UPDATE OF status), and a statement trigger cannot have a WHEN condition on the rows: a
-- statement-level UPDATE trigger would run, and copy every updated row into its transition
-- tables, for every write of the service (each bumps the case's version), while the row
-- trigger below costs nothing unless the status changes. benchmarks/bulk_load.py measures
-- both.

create or replace function taskflow_cases_counted_per_statement() returns trigger
language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    insert into case_status_counts as c (status, slot, cases)
      select status, (pg_backend_pid() % 1024)::smallint, count(*)
      from added where status is not null
      group by status order by status
      on conflict (status, slot) do update set cases = c.cases + excluded.cases;
  else
    insert into case_status_counts as c (status, slot, cases)
      select status, (pg_backend_pid() % 1024)::smallint, -count(*)
      from removed where status is not null
      group by status order by status
      on conflict (status, slot) do update set cases = c.cases + excluded.cases;
  end if;
  return null;
end
$$;

-- Both in one transaction with the old trigger's removal: no statement is counted twice or
-- missed (the runner applies each migration in a transaction of its own).
drop trigger if exists cases_counted_on_insert_or_delete on cases;

drop trigger if exists cases_counted_on_insert on cases;
create trigger cases_counted_on_insert
  after insert on cases
  referencing new table as added
  for each statement execute function taskflow_cases_counted_per_statement();

drop trigger if exists cases_counted_on_delete on cases;
create trigger cases_counted_on_delete
  after delete on cases
  referencing old table as removed
  for each statement execute function taskflow_cases_counted_per_statement();
