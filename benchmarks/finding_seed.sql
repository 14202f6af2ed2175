-- Seed :cases cases shaped like a licensing office's (psql -v cases=N), for
-- benchmarks/finding.py: a few text fields and a name per case, a word shared by 20 cases
-- ("w<k>x", as a reference or a place would be), and a comment on a tenth of the cases.
-- Ids are md5(n)::uuid, as seed.sql makes them.
--
-- The triggers are off while seeding (as for a replica): the search words and the status
-- counts are then taken once, in bulk, as migrations 0009 and 0012 take them on a database
-- that already holds cases, and that step is timed by the caller as the backfill.
set session_replication_role = replica;

insert into cases (id, status, data, created_at, updated_at, assigned_to)
select md5(n::text)::uuid,
       case when n > :cases - 10000
            then (array['new', 'open', 'in-review', 'awaiting-info'])[1 + n % 4]
            else (array['closed', 'approved', 'rejected'])[1 + n % 3] end,
       jsonb_build_object(
           'applicant', jsonb_build_object(
               'name', (array['Ada', 'Alan', 'Grace', 'Edsger', 'Barbara', 'Donald'])[1 + n % 6]
                       || ' ' || (array['Lovelace', 'Turing', 'Hopper', 'Dijkstra', 'Liskov',
                                        'Knuth', 'Hamilton'])[1 + n % 7] || '-' || (n % 997),
               'email', 'applicant' || n || '@example.org'),
           'licence', jsonb_build_object(
               'type', (array['project', 'personal', 'establishment'])[1 + n % 3],
               'reference', 'PPL-' || n,
               'site', 'w' || (n % (:cases / 20)) || 'x'),
           'description', 'Study of ' || (array['mice', 'rats', 'zebrafish', 'rabbits'])[1 + n % 4]
                          || ' for ' || (array['vaccine', 'toxicology', 'behaviour'])[1 + n % 3]
                          || ' research, protocol ' || md5(n::text)),
       timestamptz '2020-01-01' + make_interval(secs => n),
       timestamptz '2020-01-01' + make_interval(secs => n + 60),
       case when n % 4 = 0 then null else 'user-' || (n % 200) end
from generate_series(1, :cases) as n;

insert into activity_log (id, case_id, changed_by, event_name, event, comment, created_at, updated_at)
select gen_random_uuid(), md5(n::text)::uuid, 'user-' || (n % 200), 'comment',
       jsonb_build_object('id', md5(n::text)::uuid, 'event', 'comment',
                          'meta', jsonb_build_object('comment', 'Asked for the ' || md5(n::text || 'c'))),
       'Asked for the ' || md5(n::text || 'c'),
       timestamptz '2020-01-01' + make_interval(secs => n + 120),
       timestamptz '2020-01-01' + make_interval(secs => n + 120)
from generate_series(1, :cases) as n
where n % 10 = 0;

set session_replication_role = origin;
delete from case_status_counts;
insert into case_status_counts (status, slot, cases)
  select status, 0, count(*) from cases where status is not null group by status;
