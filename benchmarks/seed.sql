-- Seed :cases cases with two activity entries each, by bulk SQL (psql -v cases=N).
--
-- Ids are md5(n)::uuid so that pgbench scripts and wrk scripts can name case n without a
-- lookup. The workload is shaped like a casework office: the live queue (the last 10,000
-- cases, in active statuses) is set by the office's capacity, while the archive of closed
-- cases grows with history. So `status=in-review` matches the same number of cases at 100k
-- and at 1M, and a list's cost is what the index makes of a larger table. Likewise each
-- subject has 20 cases at any size, so `data[subject]=subject-42` returns the same page.

-- The per-status counts' triggers (migration 0009) fire once per row, after the statement:
-- a million in one transaction take many minutes, so they are off while seeding (as for a
-- replica) and the counts are taken once afterwards, as the migration takes them.
set session_replication_role = replica;

-- Who changed each case: text here; benchmarks/peer.py passes a uuid expression for the
-- original's schema (-v changed_by=...), where the column is a uuid.
\if :{?changed_by}
\else
\set changed_by '''user-'' || (n % 200)'
\endif

insert into cases (id, status, data, created_at, updated_at, assigned_to)
select md5(n::text)::uuid,
       case when n > :cases - 10000
            then (array['new', 'open', 'in-review', 'awaiting-info'])[1 + n % 4]
            else (array['closed', 'approved', 'rejected'])[1 + n % 3] end,
       jsonb_build_object(
           'subject', 'subject-' || (n % (:cases / 20)),
           'model', (array['pil', 'ppl', 'project'])[1 + n % 3],
           'establishment', jsonb_build_object('id', n % 300, 'name', 'est-' || (n % 300)),
           'n', n),
       timestamptz '2020-01-01' + make_interval(secs => n),
       timestamptz '2020-01-01' + make_interval(secs => n + 60),
       case when n % 4 = 0 then null else 'user-' || (n % 200) end
from generate_series(1, :cases) as n;

insert into activity_log (id, case_id, changed_by, event_name, event, comment, created_at, updated_at)
select gen_random_uuid(), md5(n::text)::uuid, :changed_by, e.name,
       jsonb_build_object('id', md5(n::text)::uuid, 'event', e.name, 'meta', '{}'::jsonb,
                          'req', md5(n::text || 'req')::uuid),
       null,
       timestamptz '2020-01-01' + make_interval(secs => n + e.offset_s),
       timestamptz '2020-01-01' + make_interval(secs => n + e.offset_s)
from generate_series(1, :cases) as n
cross join (values ('create', 0), ('status:new:open', 60)) as e(name, offset_s);

set session_replication_role = origin;

-- Statistics before the backfill below: without them, taskflow_search_document's lookups of
-- a case's comments scan the whole log for each case (16 ms a case at 1,000,000 cases, four
-- and a half hours in all, against 0.2 ms a case once analyzed).
analyze cases;
analyze activity_log;

do $$
begin
  if to_regclass('case_status_counts') is not null then
    delete from case_status_counts;
    insert into case_status_counts (status, slot, cases)
      select status, 0, count(*) from cases where status is not null group by status;
  end if;
  -- The search words (migration 0012), as its backfill takes them.
  if to_regclass('case_search') is not null then
    insert into case_search (case_id, document)
      select id, taskflow_search_document(id, data) from cases
      on conflict (case_id) do nothing;
  end if;
end
$$;

vacuum analyze cases;
vacuum analyze activity_log;
