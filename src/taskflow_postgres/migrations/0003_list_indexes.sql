-- Indexes for the listing (SPEC §3), so that each filter and sort stays off a sequential scan
-- on a large table. Each btree index ends with id because every ordering breaks ties by id:
-- an index on (column, id) yields the listing's exact order, forwards for ascending and
-- backwards for descending (whose NULLS FIRST is what a backward scan gives).
--
-- Built without CONCURRENTLY so that the migration stays one transaction; on a large adopted
-- database this blocks writes to `cases` while the indexes build.

-- JSON containment (data @> ...); jsonb_path_ops is smaller and faster and supports only @>,
-- the one operator the listing uses.
create index if not exists cases_data_index on cases using gin (data jsonb_path_ops);

-- The default order (creation, oldest first) and sort[column]=createdAt.
create index if not exists cases_created_at_id_index on cases (created_at, id);

-- sort[column]=updatedAt.
create index if not exists cases_updated_at_id_index on cases (updated_at, id);

-- status=... and exclude[status]=... filters, sort[column]=status.
create index if not exists cases_status_id_index on cases (status, id);

-- assignedTo=... filter, sort[column]=assignedTo.
create index if not exists cases_assigned_to_id_index on cases (assigned_to, id);
