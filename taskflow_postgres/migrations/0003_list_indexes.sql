-- Indexes for the listing (docs/http.md), so that each filter and sort stays off a sequential scan
-- on a large table. Each btree index ends with id because every ordering breaks ties by id:
-- an index on (column, id) yields the listing's exact order, forwards for ascending and
-- backwards for descending (whose NULLS FIRST is what a backward scan gives).
--
-- Built without CONCURRENTLY so that the migration stays one transaction; on a large adopted
-- database this blocks writes to `cases` while the indexes build.

-- JSON containment (data @> ...); jsonb_path_ops is smaller and faster and supports only @>,
-- the one operator the listing uses. fastupdate off: with it on, new cases queue in a
-- pending list that every containment query scans linearly until a vacuum merges it (seen in
-- the benchmark: 5 ms instead of 0.1 ms after a few thousand creates). Inserts pay the GIN
-- update at once instead.
create index if not exists cases_data_index on cases using gin (data jsonb_path_ops)
  with (fastupdate = off);

-- The default order (creation, oldest first) and sort[column]=createdAt.
create index if not exists cases_created_at_id_index on cases (created_at, id);

-- sort[column]=updatedAt.
create index if not exists cases_updated_at_id_index on cases (updated_at, id);

-- status=... in the default order: the page is the index's first rows, however large the
-- table, and the count an index-only scan of one status. sort[column]=status reads it in
-- status order and sorts each status's rows by id (an incremental sort).
create index if not exists cases_status_created_at_id_index on cases (status, created_at, id);

-- assignedTo=... in the default order, and sort[column]=assignedTo, likewise.
create index if not exists cases_assigned_to_created_at_id_index
  on cases (assigned_to, created_at, id);
