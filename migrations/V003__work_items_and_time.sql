-- Keel schema, version 3: work items (states, labels, issues, comments, activity) and time
-- tracking (work logs, timers, rollups). Projection tables, as in V001: no foreign keys and
-- no unique indexes that a merge of two offline devices could break; the write path checks
-- the rules and the merge rules (issue numbers) are resolved in the documents.

CREATE TABLE states (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    project_id   TEXT NOT NULL,
    name         TEXT NOT NULL,
    color        TEXT NOT NULL,
    state_group  TEXT NOT NULL,
    sequence     INTEGER NOT NULL DEFAULT 0,
    is_default   INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT,
    deleted_at   TEXT
) STRICT;
CREATE INDEX states_project ON states(project_id, sequence);

CREATE TABLE labels (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    project_id   TEXT NOT NULL,
    name         TEXT NOT NULL,
    color        TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT,
    deleted_at   TEXT
) STRICT;
CREATE INDEX labels_project ON labels(project_id, name);

CREATE TABLE issues (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL,
    project_id       TEXT NOT NULL,
    sequence_id      INTEGER NOT NULL,
    name             TEXT NOT NULL,
    description_html TEXT NOT NULL DEFAULT '',
    description_text TEXT NOT NULL DEFAULT '',
    state_id         TEXT,
    priority         TEXT NOT NULL DEFAULT 'none',
    estimate_point   INTEGER,
    estimate_time    INTEGER,
    start_date       TEXT,
    target_date      TEXT,
    parent_id        TEXT,
    sort_order       INTEGER NOT NULL DEFAULT 0,
    completed_at     TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    created_by       TEXT,
    deleted_at       TEXT
) STRICT;
-- Not unique: two offline devices may take the same number; the merge rule renumbers.
CREATE INDEX issues_number ON issues(project_id, sequence_id);
CREATE INDEX issues_project_created ON issues(project_id, created_at) WHERE deleted_at IS NULL;
CREATE INDEX issues_project_state ON issues(project_id, state_id) WHERE deleted_at IS NULL;
CREATE INDEX issues_project_priority ON issues(project_id, priority) WHERE deleted_at IS NULL;
CREATE INDEX issues_parent ON issues(parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE issue_assignees (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    project_id   TEXT NOT NULL,
    issue_id     TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT,
    deleted_at   TEXT
) STRICT;
CREATE INDEX issue_assignees_issue ON issue_assignees(issue_id) WHERE deleted_at IS NULL;
CREATE INDEX issue_assignees_user ON issue_assignees(user_id, project_id) WHERE deleted_at IS NULL;

CREATE TABLE issue_labels (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    project_id   TEXT NOT NULL,
    issue_id     TEXT NOT NULL,
    label_id     TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT,
    deleted_at   TEXT
) STRICT;
CREATE INDEX issue_labels_issue ON issue_labels(issue_id) WHERE deleted_at IS NULL;
CREATE INDEX issue_labels_label ON issue_labels(label_id) WHERE deleted_at IS NULL;

CREATE TABLE issue_comments (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    project_id   TEXT NOT NULL,
    issue_id     TEXT NOT NULL,
    comment_html TEXT NOT NULL,
    comment_text TEXT NOT NULL,
    edited_at    TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT,
    deleted_at   TEXT
) STRICT;
CREATE INDEX issue_comments_issue ON issue_comments(issue_id, created_at);

CREATE TABLE issue_activity (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    project_id   TEXT NOT NULL,
    issue_id     TEXT NOT NULL,
    verb         TEXT NOT NULL,
    field        TEXT,
    old_value    TEXT,
    new_value    TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT,
    deleted_at   TEXT
) STRICT;
CREATE INDEX issue_activity_issue ON issue_activity(issue_id, created_at);

-- Full-text search over issue titles and descriptions, and over comments. External-content
-- FTS5 tables kept in step by triggers on the projection, so a rebuild refills them too.
CREATE VIRTUAL TABLE issues_fts USING fts5(name, description_text, content='issues', content_rowid='rowid',
    tokenize = 'unicode61 remove_diacritics 2');
CREATE TRIGGER issues_fts_ai AFTER INSERT ON issues BEGIN
    INSERT INTO issues_fts(rowid, name, description_text) VALUES (new.rowid, new.name, new.description_text);
END;
CREATE TRIGGER issues_fts_ad AFTER DELETE ON issues BEGIN
    INSERT INTO issues_fts(issues_fts, rowid, name, description_text)
        VALUES ('delete', old.rowid, old.name, old.description_text);
END;
CREATE TRIGGER issues_fts_au AFTER UPDATE OF name, description_text ON issues BEGIN
    INSERT INTO issues_fts(issues_fts, rowid, name, description_text)
        VALUES ('delete', old.rowid, old.name, old.description_text);
    INSERT INTO issues_fts(rowid, name, description_text) VALUES (new.rowid, new.name, new.description_text);
END;

CREATE VIRTUAL TABLE comments_fts USING fts5(comment_text, content='issue_comments', content_rowid='rowid',
    tokenize = 'unicode61 remove_diacritics 2');
CREATE TRIGGER comments_fts_ai AFTER INSERT ON issue_comments BEGIN
    INSERT INTO comments_fts(rowid, comment_text) VALUES (new.rowid, new.comment_text);
END;
CREATE TRIGGER comments_fts_ad AFTER DELETE ON issue_comments BEGIN
    INSERT INTO comments_fts(comments_fts, rowid, comment_text) VALUES ('delete', old.rowid, old.comment_text);
END;
CREATE TRIGGER comments_fts_au AFTER UPDATE OF comment_text ON issue_comments BEGIN
    INSERT INTO comments_fts(comments_fts, rowid, comment_text) VALUES ('delete', old.rowid, old.comment_text);
    INSERT INTO comments_fts(rowid, comment_text) VALUES (new.rowid, new.comment_text);
END;

CREATE TABLE worklogs (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL,
    project_id       TEXT NOT NULL,
    issue_id         TEXT NOT NULL,
    logged_by        TEXT NOT NULL,
    duration_minutes INTEGER NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    logged_at        TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    created_by       TEXT,
    deleted_at       TEXT
) STRICT;
CREATE INDEX worklogs_issue ON worklogs(issue_id, logged_at) WHERE deleted_at IS NULL;
CREATE INDEX worklogs_project_day ON worklogs(project_id, logged_at, logged_by, duration_minutes)
    WHERE deleted_at IS NULL;
CREATE INDEX worklogs_user_day ON worklogs(workspace_id, logged_by, logged_at, project_id, duration_minutes)
    WHERE deleted_at IS NULL;

-- Rollups of live work logs, kept current by triggers on the projection (so by the write
-- path, and by a rebuild). Workspace summaries read these instead of a million logs.
CREATE TABLE worklog_project_day (
    workspace_id TEXT NOT NULL,
    project_id   TEXT NOT NULL,
    day          TEXT NOT NULL,
    minutes      INTEGER NOT NULL,
    entries      INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, day, project_id)
) STRICT, WITHOUT ROWID;
CREATE TABLE worklog_user_day (
    workspace_id TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    day          TEXT NOT NULL,
    minutes      INTEGER NOT NULL,
    entries      INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, day, user_id)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER worklogs_rollup_ai AFTER INSERT ON worklogs WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO worklog_project_day VALUES (new.workspace_id, new.project_id, new.logged_at, new.duration_minutes, 1)
        ON CONFLICT DO UPDATE SET minutes = minutes + excluded.minutes, entries = entries + 1;
    INSERT INTO worklog_user_day VALUES (new.workspace_id, new.logged_by, new.logged_at, new.duration_minutes, 1)
        ON CONFLICT DO UPDATE SET minutes = minutes + excluded.minutes, entries = entries + 1;
END;
CREATE TRIGGER worklogs_rollup_ud AFTER UPDATE ON worklogs WHEN old.deleted_at IS NULL BEGIN
    UPDATE worklog_project_day SET minutes = minutes - old.duration_minutes, entries = entries - 1
        WHERE workspace_id = old.workspace_id AND day = old.logged_at AND project_id = old.project_id;
    UPDATE worklog_user_day SET minutes = minutes - old.duration_minutes, entries = entries - 1
        WHERE workspace_id = old.workspace_id AND day = old.logged_at AND user_id = old.logged_by;
    DELETE FROM worklog_project_day WHERE workspace_id = old.workspace_id AND day = old.logged_at
        AND project_id = old.project_id AND entries <= 0;
    DELETE FROM worklog_user_day WHERE workspace_id = old.workspace_id AND day = old.logged_at
        AND user_id = old.logged_by AND entries <= 0;
END;
CREATE TRIGGER worklogs_rollup_ua AFTER UPDATE ON worklogs WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO worklog_project_day VALUES (new.workspace_id, new.project_id, new.logged_at, new.duration_minutes, 1)
        ON CONFLICT DO UPDATE SET minutes = minutes + excluded.minutes, entries = entries + 1;
    INSERT INTO worklog_user_day VALUES (new.workspace_id, new.logged_by, new.logged_at, new.duration_minutes, 1)
        ON CONFLICT DO UPDATE SET minutes = minutes + excluded.minutes, entries = entries + 1;
END;
CREATE TRIGGER worklogs_rollup_ad AFTER DELETE ON worklogs WHEN old.deleted_at IS NULL BEGIN
    UPDATE worklog_project_day SET minutes = minutes - old.duration_minutes, entries = entries - 1
        WHERE workspace_id = old.workspace_id AND day = old.logged_at AND project_id = old.project_id;
    UPDATE worklog_user_day SET minutes = minutes - old.duration_minutes, entries = entries - 1
        WHERE workspace_id = old.workspace_id AND day = old.logged_at AND user_id = old.logged_by;
    DELETE FROM worklog_project_day WHERE workspace_id = old.workspace_id AND day = old.logged_at
        AND project_id = old.project_id AND entries <= 0;
    DELETE FROM worklog_user_day WHERE workspace_id = old.workspace_id AND day = old.logged_at
        AND user_id = old.logged_by AND entries <= 0;
END;

CREATE TABLE timers (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    project_id   TEXT NOT NULL,
    issue_id     TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    started_at   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT,
    deleted_at   TEXT
) STRICT;
CREATE INDEX timers_running ON timers(user_id) WHERE deleted_at IS NULL;
