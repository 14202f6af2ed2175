-- The actor id a host writes to the log is whatever its auth layer uses, not always a UUID.
-- Existing values keep their meaning: a uuid's text form is its canonical lowercase spelling,
-- which is how the service compares ids. The index on the column is rebuilt by the alter.

alter table activity_log alter column changed_by type text using changed_by::text;
