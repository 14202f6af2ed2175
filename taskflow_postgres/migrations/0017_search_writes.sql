-- Keeping the search words (0012_search.sql) cheaper for the writes that pay for it
-- (benchmarks/results/finding-1000000.md: POST /, PUT /{id} and comments lost 12-24% of
-- their throughput to it). The words stay exactly those taskflow_search_document makes;
-- what changes is how much each write reads and writes to get them:
--
-- - A new case has no comments yet (activity_log's foreign key on cases), so its words are
--   those of its data alone: the log is not read.
-- - A comment adds its words to the case's document: neither the data nor the log is read
--   again. An edit or a deletion of a comment, whose old words may be the case's only
--   instance of them, still makes the whole document again.
-- - A document equal to the stored one is not written again: an unchanged row keeps its
--   GIN entries, where a new row version would add every word of the case to the index.
-- - The comments of a case are found from a partial index of the comment entries alone:
--   by activity_log_case_id_index, every change of data read the case's whole log (every
--   status change and edit it ever had) to find that it has no comments.

-- Writers wait while the index is built, as for 0012's backfill.
create index if not exists activity_log_comments_index on activity_log (case_id)
  where event_name in ('comment', 'update-comment', 'delete-comment');

-- The words of a text, as taskflow_search_document makes them from a case's text.
create or replace function taskflow_search_words(text text) returns tsvector
language sql immutable parallel safe as $$
  select strip(to_tsvector('simple',
    regexp_replace(left(coalesce(text, ''), 262144), '[^[:alnum:]]+', ' ', 'g')))
$$;

-- The words of a case's data alone: the string values anywhere in it. PL/pgSQL, as
-- taskflow_search_document is: a SQL function holding a subquery is not inlined, and would
-- be planned again for every row a trigger passes it.
create or replace function taskflow_data_words(data jsonb) returns tsvector
language plpgsql immutable parallel safe as $$
begin
  return taskflow_search_words((
    select string_agg(value #>> '{}', ' ')
    from jsonb_path_query(data, 'strict $.** ? (@.type() == "string")') as value));
end
$$;

create or replace function taskflow_case_searched() returns trigger
language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    insert into case_search (case_id, document)
    values (new.id, taskflow_data_words(new.data))
    on conflict (case_id) do update set document = excluded.document;
  else
    insert into case_search (case_id, document)
    values (new.id, taskflow_search_document(new.id, new.data))
    on conflict (case_id) do update set document = excluded.document
    where case_search.document is distinct from excluded.document;
  end if;
  return null;
end
$$;

-- A case's document stays within 0012's bounds: while its text is at most 256 kB, the union
-- of its data's and comments' words is exactly what taskflow_search_document makes of it.
-- One that would grow past 256 kB stored is made again from the log, which cuts its text at
-- 256 kB: a tsvector holds 1 MB at most, and a write must never fail for its words.
create or replace function taskflow_comment_searched() returns trigger
language plpgsql as $$
declare
  stored tsvector;
  added tsvector;
begin
  if new.event_name = 'comment' then
    select document into stored from case_search where case_id = new.case_id;
    if found then
      added := taskflow_search_words(new.comment);
      if stored || added = stored then
        return null;
      end if;
      if pg_column_size(stored || added) <= 262144 then
        -- document, not stored: a writer that changed it since is waited for, then added to.
        update case_search set document = document || added where case_id = new.case_id;
        return null;
      end if;
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
