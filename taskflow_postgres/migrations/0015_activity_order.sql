-- A case's log in the order it was written, whatever the clock's resolution: two processes
-- writing in one millisecond, or at one instant of an injected clock, tie on created_at, and
-- their random ids are no order. The sequence breaks such ties (issue 34, item 7).
-- Added without a volatile default first, then given one: the existing rows keep NULL
-- (they sort by id among their ties, as before) and the table is not rewritten.
create sequence if not exists activity_log_seq;
alter table activity_log add column if not exists seq bigint;
alter table activity_log alter column seq set default nextval('activity_log_seq');
alter sequence activity_log_seq owned by activity_log.seq;
