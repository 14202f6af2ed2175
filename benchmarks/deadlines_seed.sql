-- Deadlines on cases seeded by seed.sql (psql -v cases=N -v deadlines=D -v overdue_every=K):
-- D cases, spread evenly over the N, are in a status that starts the deadline "decision"
-- (benchmarks/deadlines_app.py); one in K of their deadlines is overdue (its passed event
-- fired in the past), the rest running, due from a day ahead to 40 days ahead, each with
-- the timer that fires deadline:decision:passed, as the engine saves them
-- (taskflow_core/application/deadline_clock.py).

-- As in seed.sql: the per-status counts' triggers are off while the statuses change, and
-- the counts are taken once afterwards.
set session_replication_role = replica;

create temp table seeded on commit preserve rows as
select k, md5((k * (:cases / :deadlines))::text)::uuid as case_id,
       k % :overdue_every = 0 as overdue
from generate_series(1, :deadlines) as k;

update cases set status = 'open' from seeded where cases.id = seeded.case_id;

insert into deadlines (case_id, name, state, due, started_at)
select case_id, 'decision',
       case when overdue then 'overdue' else 'running' end,
       d.due, d.due - interval '56 days'
from seeded
cross join lateral (
  select case when overdue then now() - make_interval(mins => 1 + (k * 37) % (30 * 24 * 60))
              else now() + interval '1 day' + make_interval(mins => (k * 37) % (39 * 24 * 60))
         end as due
) as d;

insert into timers (case_id, name, due, fire_at)
select case_id, 'deadline:decision:passed', due, due from deadlines where state = 'running';

set session_replication_role = origin;
\ir status_counts.sql

vacuum analyze cases;
vacuum analyze deadlines;
vacuum analyze timers;
