-- A version on every case, one higher after every request that changes it or adds to its
-- log (what HTTP's ETag and If-Match are made of); existing cases start at 1.

ALTER TABLE cases ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
