-- Search (`q`, docs/finding.md): each case's words in an FTS5 index, kept by triggers in the
-- writer's transaction. unicode61 splits text into runs of letters and digits and folds
-- case, as taskflow_core/search.py does; remove_diacritics 0 keeps "é" apart from "e", as
-- the other stores do.
CREATE VIRTUAL TABLE case_search USING fts5 (words, tokenize = 'unicode61 remove_diacritics 0');

-- The FTS5 row of each case. Not the rowid of `cases`: a VACUUM may renumber that, as its
-- primary key is not an INTEGER PRIMARY KEY.
CREATE TABLE case_search_ids (
    search_id INTEGER PRIMARY KEY,
    case_id TEXT NOT NULL UNIQUE REFERENCES cases (id)
);

-- A case's words: the string values of its data and the text of its comments not deleted,
-- each as last edited (taskflow_core/domain/wire.py folds the log alike).
CREATE VIEW case_search_text AS
SELECT
    c.id AS case_id,
    coalesce((SELECT group_concat(value, ' ') FROM json_tree(c.data) WHERE type = 'text'), '')
    || ' ' || coalesce((
        SELECT group_concat(coalesce((
            SELECT edit.comment FROM activity_log AS edit
            WHERE edit.case_id = c.id AND edit.event_name = 'update-comment'
                AND json_extract(edit.event, '$.meta.id') = comment.id
            ORDER BY edit.created_at DESC, edit.id DESC LIMIT 1
        ), comment.comment), ' ')
        FROM activity_log AS comment
        WHERE comment.case_id = c.id AND comment.event_name = 'comment'
            AND NOT EXISTS (
                SELECT 1 FROM activity_log AS gone
                WHERE gone.case_id = c.id AND gone.event_name = 'delete-comment'
                    AND json_extract(gone.event, '$.meta.id') = comment.id
            )
    ), '') AS words
FROM cases AS c;

CREATE TRIGGER cases_searched_on_insert AFTER INSERT ON cases
BEGIN
    INSERT OR IGNORE INTO case_search_ids (case_id) VALUES (new.id);
    INSERT INTO case_search (rowid, words)
    SELECT i.search_id, t.words FROM case_search_ids AS i, case_search_text AS t
    WHERE i.case_id = new.id AND t.case_id = new.id;
END;

-- Most updates keep the data (status, assignee, a comment's version bump): skipped.
CREATE TRIGGER cases_searched_on_data_change AFTER UPDATE OF data ON cases
WHEN old.data IS NOT new.data
BEGIN
    INSERT OR IGNORE INTO case_search_ids (case_id) VALUES (new.id);
    DELETE FROM case_search
    WHERE rowid = (SELECT search_id FROM case_search_ids WHERE case_id = new.id);
    INSERT INTO case_search (rowid, words)
    SELECT i.search_id, t.words FROM case_search_ids AS i, case_search_text AS t
    WHERE i.case_id = new.id AND t.case_id = new.id;
END;

CREATE TRIGGER activity_searched_on_comment AFTER INSERT ON activity_log
WHEN new.event_name IN ('comment', 'update-comment', 'delete-comment')
BEGIN
    INSERT OR IGNORE INTO case_search_ids (case_id) VALUES (new.case_id);
    DELETE FROM case_search
    WHERE rowid = (SELECT search_id FROM case_search_ids WHERE case_id = new.case_id);
    INSERT INTO case_search (rowid, words)
    SELECT i.search_id, t.words FROM case_search_ids AS i, case_search_text AS t
    WHERE i.case_id = new.case_id AND t.case_id = new.case_id;
END;

-- The cases already there.
INSERT OR IGNORE INTO case_search_ids (case_id) SELECT id FROM cases ORDER BY created_at, id;
INSERT INTO case_search (rowid, words)
SELECT i.search_id, t.words FROM case_search_ids AS i JOIN case_search_text AS t USING (case_id);
