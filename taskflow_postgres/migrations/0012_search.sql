-- Search (`q`, docs/finding.md): each case's words in a tsvector of its own row, kept by
-- triggers in the writer's transaction, and a GIN index over them, so that a word matched by
-- a few cases is found by an index lookup rather than by reading every case.
--
-- Why tsvector and not pg_trgm: `q` matches the start of a word, which a tsvector prefix
-- query ('lic':*) answers from the index exactly; trigrams match anywhere inside words, so
-- every hit would be rechecked against the text, and their index is several times larger
-- (every 3 characters of every string). Why the `simple` configuration: no stemming, no stop
-- words, only lowercasing, as the memory and SQLite stores do. The text is split into runs
-- of letters and digits first (regexp_replace), because the parser alone keeps e-mail
-- addresses, URLs and numbers like 1.5 as single tokens, where a user searches their parts.
--
-- Why a table of its own rather than a column of `cases`: a comment changes the words but
-- not the case's data, and the case's row (with its seven indexes) is not written again.

-- The backfill below must see every case and comment and miss no concurrent change: writers
-- wait for this migration's transaction, whose triggers index their rows once it commits.
lock table cases, activity_log in share row exclusive mode;

create table if not exists case_search (
  case_id uuid primary key references cases (id) on delete cascade,
  document tsvector not null
);

-- fastupdate stays on (new entries queue in a pending list that searches also read): a case
-- brings tens of words, each a GIN insertion without it. The list is kept small, so that a
-- search reading it stays fast until autovacuum merges it.
create index if not exists case_search_document_index on case_search using gin (document)
  with (gin_pending_list_limit = 256);

-- A case's words: the string values of its data and the text of its comments not deleted,
-- each as last edited (taskflow_core/domain/wire.py folds the log alike). At most 256 kB of text:
-- a tsvector holds at most 1 MB, and a write must never fail for its search words.
-- PL/pgSQL rather than SQL: it keeps its plan between calls, where a SQL function called
-- from a trigger is planned again for every row (six times slower in the benchmark's seed).
create or replace function taskflow_search_document(searched uuid, data jsonb)
returns tsvector language plpgsql stable as $$
begin
  return (select strip(to_tsvector('simple', regexp_replace(
    left(coalesce(string_agg(text, ' '), ''), 262144), '[^[:alnum:]]+', ' ', 'g')))
  from (
    select value #>> '{}' as text
    from jsonb_path_query(data, 'strict $.** ? (@.type() == "string")') as value
    union all
    select coalesce((
      select edit.comment from activity_log as edit
      where edit.case_id = searched and edit.event_name = 'update-comment'
        and edit.event -> 'meta' ->> 'id' = comment.id::text
      order by edit.created_at desc, edit.id desc limit 1
    ), comment.comment)
    from activity_log as comment
    where comment.case_id = searched and comment.event_name = 'comment'
      and not exists (
        select from activity_log as gone
        where gone.case_id = searched and gone.event_name = 'delete-comment'
          and gone.event -> 'meta' ->> 'id' = comment.id::text
      )
  ) as texts);
end
$$;

create or replace function taskflow_case_searched() returns trigger
language plpgsql as $$
begin
  insert into case_search (case_id, document)
  values (new.id, taskflow_search_document(new.id, new.data))
  on conflict (case_id) do update set document = excluded.document;
  return null;
end
$$;

create or replace function taskflow_comment_searched() returns trigger
language plpgsql as $$
begin
  insert into case_search (case_id, document)
  select cases.id, taskflow_search_document(cases.id, cases.data) from cases
  where cases.id = new.case_id
  on conflict (case_id) do update set document = excluded.document;
  return null;
end
$$;

drop trigger if exists cases_searched_on_insert on cases;
create trigger cases_searched_on_insert
  after insert on cases
  for each row execute function taskflow_case_searched();

-- Most updates keep the data (status, assignee, a comment's version bump): they cost
-- nothing here, as the condition is checked before any function is called.
drop trigger if exists cases_searched_on_data_change on cases;
create trigger cases_searched_on_data_change
  after update of data on cases
  for each row when (old.data is distinct from new.data)
  execute function taskflow_case_searched();

drop trigger if exists activity_searched_on_comment on activity_log;
create trigger activity_searched_on_comment
  after insert on activity_log
  for each row when (new.event_name in ('comment', 'update-comment', 'delete-comment'))
  execute function taskflow_comment_searched();

-- The cases already there (a database the original wrote, or one from before this
-- migration), in batches of 10,000 by id, so that no statement holds a million documents.
do $$
declare
  done uuid;  -- the last id indexed; none yet
  upto uuid;
begin
  loop
    select batch.id into upto
    from (select id from cases where done is null or id > done order by id limit 10000) as batch
    order by batch.id desc limit 1;
    exit when upto is null;
    insert into case_search (case_id, document)
    select id, taskflow_search_document(id, data) from cases
    where (done is null or id > done) and id <= upto
    on conflict (case_id) do nothing;
    done := upto;
  end loop;
end
$$;
