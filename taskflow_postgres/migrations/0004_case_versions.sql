-- A version on every case, one higher after every request that changes it or adds to its
-- log: what HTTP's ETag and If-Match are made of. A database adopted from the original gets
-- version 1 on every existing row, and nothing else in those rows changes. A constant
-- default makes this a change to the catalogue only (PostgreSQL 11 and later): the table is
-- not rewritten, however large it is.

alter table cases add column if not exists version bigint not null default 1;
