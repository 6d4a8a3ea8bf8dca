-- A workspace's licence (plans::licence): the file's text as installed, one record per
-- workspace under the workspace's id, in the workspace document, so it travels with the
-- workspace to paired devices. The plan is worked out from the text at every read (its
-- signature verified again), never stored apart from it.
CREATE TABLE licences (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    text         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT,
    deleted_at   TEXT
) STRICT;

-- The latest time this instance has seen (moved by the writer at its first write, then
-- at most once a minute): a licence's dates are read against it and today, whichever is
-- later, so a clock turned back does not make an expired licence valid again.
CREATE TABLE clock (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seen TEXT NOT NULL
) STRICT;
INSERT INTO clock (id, seen) VALUES (1, '1970-01-01T00:00:00.000Z');
