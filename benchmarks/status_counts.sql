-- The per-status counts (migration 0009) taken afresh, after a seed that turned their
-- triggers off (session_replication_role = replica).
delete from case_status_counts;
insert into case_status_counts (status, slot, cases)
  select status, 0, count(*) from cases where status is not null group by status;
