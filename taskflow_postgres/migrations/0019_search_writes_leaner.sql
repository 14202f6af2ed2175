-- The search words' triggers (0017_search_writes.sql) with less work per write, the words
-- unchanged. Measured per write at 1,000,000 cases, in CPU of the backend
-- (benchmarks/results/finding-speed-1000000.md):
--
-- - A change of data updates the case's row of words with a plain UPDATE, and only when
--   there is none (or its words are the same) falls back to INSERT ... ON CONFLICT, whose
--   conflict path locks the row (a WAL record of its own) before updating it: 255 -> 190 us
--   per write of a row of words.
-- - A change of data of a case that has no comment entry takes the words of its data alone,
--   as a new case does: its log is not read beyond the probe of the comments' index.
-- - A comment adds its words in one UPDATE that is its own check (new words, within the
--   bound); the stored words are read apart only when it changed nothing.
--
-- Every path still ends with the words taskflow_search_document makes of the case
-- (tests/integration/test_postgres_search.py compares them after each kind of write).

create or replace function taskflow_case_searched() returns trigger
language plpgsql as $$
declare
  words tsvector;
begin
  if tg_op = 'INSERT' then
    insert into case_search (case_id, document)
    values (new.id, taskflow_data_words(new.data))
    on conflict (case_id) do update set document = excluded.document;
    return null;
  end if;
  if exists (
    select from activity_log
    where case_id = new.id and event_name in ('comment', 'update-comment', 'delete-comment')
  ) then
    words := taskflow_search_document(new.id, new.data);
  else
    words := taskflow_data_words(new.data);
  end if;
  update case_search set document = words
  where case_id = new.id and document is distinct from words;
  if not found then
    -- No row of words yet (the case written with the triggers off), or the same words.
    insert into case_search (case_id, document) values (new.id, words)
    on conflict (case_id) do update set document = excluded.document
    where case_search.document is distinct from excluded.document;
  end if;
  return null;
end
$$;

-- Within 0012's bounds as 0017's is: a document that would grow past 256 kB stored is made
-- again from the log, which cuts its text at 256 kB.
create or replace function taskflow_comment_searched() returns trigger
language plpgsql as $$
declare
  stored tsvector;
  added tsvector;
begin
  if new.event_name = 'comment' then
    added := taskflow_search_words(new.comment);
    -- The row as it is when its lock is taken: a writer that changed it since is waited
    -- for, then added to.
    update case_search set document = document || added
    where case_id = new.case_id and document || added <> document
      and pg_column_size(document || added) <= 262144;
    if found then
      return null;
    end if;
    select document into stored from case_search where case_id = new.case_id;
    if found and stored || added = stored then
      return null;
    end if;
  end if;
  -- An edit or deletion, a case with no document yet (its rows written with the triggers
  -- off), or one too large to grow: the whole document, written only if it differs.
  insert into case_search (case_id, document)
  select cases.id, taskflow_search_document(cases.id, cases.data) from cases
  where cases.id = new.case_id
  on conflict (case_id) do update set document = excluded.document
  where case_search.document is distinct from excluded.document;
  return null;
end
$$;
