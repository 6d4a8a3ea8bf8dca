-- Keel schema, version 5: month rollups and a workspace-day rollup for time summaries, and a
-- covering index for the minutes logged on one issue. Measured on 1M logs (BENCHMARKS.md):
-- summing 146k user-day rows per summary took 180 ms; months plus two edge ranges of days
-- read a few thousand.

DROP INDEX worklogs_issue;
CREATE INDEX worklogs_issue ON worklogs(issue_id, duration_minutes) WHERE deleted_at IS NULL;
-- Project summaries group by issue too: the index covers it.
DROP INDEX worklogs_project_day;
CREATE INDEX worklogs_project_day ON worklogs(project_id, logged_at, logged_by, issue_id, duration_minutes)
    WHERE deleted_at IS NULL;
-- One project's or one person's days, for summaries filtered by them.
CREATE INDEX worklog_project_day_project ON worklog_project_day(workspace_id, project_id, day, minutes, entries);
CREATE INDEX worklog_user_day_user ON worklog_user_day(workspace_id, user_id, day, minutes, entries);

CREATE TABLE worklog_project_month (
    workspace_id TEXT NOT NULL,
    month        TEXT NOT NULL,
    project_id   TEXT NOT NULL,
    minutes      INTEGER NOT NULL,
    entries      INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, month, project_id)
) STRICT, WITHOUT ROWID;
CREATE TABLE worklog_user_month (
    workspace_id TEXT NOT NULL,
    month        TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    minutes      INTEGER NOT NULL,
    entries      INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, month, user_id)
) STRICT, WITHOUT ROWID;
CREATE TABLE worklog_day (
    workspace_id TEXT NOT NULL,
    day          TEXT NOT NULL,
    minutes      INTEGER NOT NULL,
    entries      INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, day)
) STRICT, WITHOUT ROWID;

INSERT INTO worklog_project_month
    SELECT workspace_id, substr(logged_at, 1, 7), project_id, SUM(duration_minutes), COUNT(*)
    FROM worklogs WHERE deleted_at IS NULL GROUP BY 1, 2, 3;
INSERT INTO worklog_user_month
    SELECT workspace_id, substr(logged_at, 1, 7), logged_by, SUM(duration_minutes), COUNT(*)
    FROM worklogs WHERE deleted_at IS NULL GROUP BY 1, 2, 3;
INSERT INTO worklog_day
    SELECT workspace_id, logged_at, SUM(duration_minutes), COUNT(*)
    FROM worklogs WHERE deleted_at IS NULL GROUP BY 1, 2;

-- The triggers of V003, extended to every rollup. A live log adds to each; a change takes
-- the old row's share out and puts the new one's in; empty rollup rows are removed.
DROP TRIGGER worklogs_rollup_ai;
DROP TRIGGER worklogs_rollup_ud;
DROP TRIGGER worklogs_rollup_ua;
DROP TRIGGER worklogs_rollup_ad;

CREATE TRIGGER worklogs_rollup_ai AFTER INSERT ON worklogs WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO worklog_project_day VALUES (new.workspace_id, new.project_id, new.logged_at, new.duration_minutes, 1)
        ON CONFLICT DO UPDATE SET minutes = minutes + excluded.minutes, entries = entries + 1;
    INSERT INTO worklog_user_day VALUES (new.workspace_id, new.logged_by, new.logged_at, new.duration_minutes, 1)
        ON CONFLICT DO UPDATE SET minutes = minutes + excluded.minutes, entries = entries + 1;
    INSERT INTO worklog_project_month VALUES (new.workspace_id, substr(new.logged_at, 1, 7), new.project_id, new.duration_minutes, 1)
        ON CONFLICT DO UPDATE SET minutes = minutes + excluded.minutes, entries = entries + 1;
    INSERT INTO worklog_user_month VALUES (new.workspace_id, substr(new.logged_at, 1, 7), new.logged_by, new.duration_minutes, 1)
        ON CONFLICT DO UPDATE SET minutes = minutes + excluded.minutes, entries = entries + 1;
    INSERT INTO worklog_day VALUES (new.workspace_id, new.logged_at, new.duration_minutes, 1)
        ON CONFLICT DO UPDATE SET minutes = minutes + excluded.minutes, entries = entries + 1;
END;
CREATE TRIGGER worklogs_rollup_ua AFTER UPDATE ON worklogs WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO worklog_project_day VALUES (new.workspace_id, new.project_id, new.logged_at, new.duration_minutes, 1)
        ON CONFLICT DO UPDATE SET minutes = minutes + excluded.minutes, entries = entries + 1;
    INSERT INTO worklog_user_day VALUES (new.workspace_id, new.logged_by, new.logged_at, new.duration_minutes, 1)
        ON CONFLICT DO UPDATE SET minutes = minutes + excluded.minutes, entries = entries + 1;
    INSERT INTO worklog_project_month VALUES (new.workspace_id, substr(new.logged_at, 1, 7), new.project_id, new.duration_minutes, 1)
        ON CONFLICT DO UPDATE SET minutes = minutes + excluded.minutes, entries = entries + 1;
    INSERT INTO worklog_user_month VALUES (new.workspace_id, substr(new.logged_at, 1, 7), new.logged_by, new.duration_minutes, 1)
        ON CONFLICT DO UPDATE SET minutes = minutes + excluded.minutes, entries = entries + 1;
    INSERT INTO worklog_day VALUES (new.workspace_id, new.logged_at, new.duration_minutes, 1)
        ON CONFLICT DO UPDATE SET minutes = minutes + excluded.minutes, entries = entries + 1;
END;
CREATE TRIGGER worklogs_rollup_ud AFTER UPDATE ON worklogs WHEN old.deleted_at IS NULL BEGIN
    UPDATE worklog_project_day SET minutes = minutes - old.duration_minutes, entries = entries - 1
        WHERE workspace_id = old.workspace_id AND day = old.logged_at AND project_id = old.project_id;
    UPDATE worklog_user_day SET minutes = minutes - old.duration_minutes, entries = entries - 1
        WHERE workspace_id = old.workspace_id AND day = old.logged_at AND user_id = old.logged_by;
    UPDATE worklog_project_month SET minutes = minutes - old.duration_minutes, entries = entries - 1
        WHERE workspace_id = old.workspace_id AND month = substr(old.logged_at, 1, 7) AND project_id = old.project_id;
    UPDATE worklog_user_month SET minutes = minutes - old.duration_minutes, entries = entries - 1
        WHERE workspace_id = old.workspace_id AND month = substr(old.logged_at, 1, 7) AND user_id = old.logged_by;
    UPDATE worklog_day SET minutes = minutes - old.duration_minutes, entries = entries - 1
        WHERE workspace_id = old.workspace_id AND day = old.logged_at;
    DELETE FROM worklog_project_day WHERE workspace_id = old.workspace_id AND day = old.logged_at
        AND project_id = old.project_id AND entries <= 0;
    DELETE FROM worklog_user_day WHERE workspace_id = old.workspace_id AND day = old.logged_at
        AND user_id = old.logged_by AND entries <= 0;
    DELETE FROM worklog_project_month WHERE workspace_id = old.workspace_id AND month = substr(old.logged_at, 1, 7)
        AND project_id = old.project_id AND entries <= 0;
    DELETE FROM worklog_user_month WHERE workspace_id = old.workspace_id AND month = substr(old.logged_at, 1, 7)
        AND user_id = old.logged_by AND entries <= 0;
    DELETE FROM worklog_day WHERE workspace_id = old.workspace_id AND day = old.logged_at AND entries <= 0;
END;
CREATE TRIGGER worklogs_rollup_ad AFTER DELETE ON worklogs WHEN old.deleted_at IS NULL BEGIN
    UPDATE worklog_project_day SET minutes = minutes - old.duration_minutes, entries = entries - 1
        WHERE workspace_id = old.workspace_id AND day = old.logged_at AND project_id = old.project_id;
    UPDATE worklog_user_day SET minutes = minutes - old.duration_minutes, entries = entries - 1
        WHERE workspace_id = old.workspace_id AND day = old.logged_at AND user_id = old.logged_by;
    UPDATE worklog_project_month SET minutes = minutes - old.duration_minutes, entries = entries - 1
        WHERE workspace_id = old.workspace_id AND month = substr(old.logged_at, 1, 7) AND project_id = old.project_id;
    UPDATE worklog_user_month SET minutes = minutes - old.duration_minutes, entries = entries - 1
        WHERE workspace_id = old.workspace_id AND month = substr(old.logged_at, 1, 7) AND user_id = old.logged_by;
    UPDATE worklog_day SET minutes = minutes - old.duration_minutes, entries = entries - 1
        WHERE workspace_id = old.workspace_id AND day = old.logged_at;
    DELETE FROM worklog_project_day WHERE workspace_id = old.workspace_id AND day = old.logged_at
        AND project_id = old.project_id AND entries <= 0;
    DELETE FROM worklog_user_day WHERE workspace_id = old.workspace_id AND day = old.logged_at
        AND user_id = old.logged_by AND entries <= 0;
    DELETE FROM worklog_project_month WHERE workspace_id = old.workspace_id AND month = substr(old.logged_at, 1, 7)
        AND project_id = old.project_id AND entries <= 0;
    DELETE FROM worklog_user_month WHERE workspace_id = old.workspace_id AND month = substr(old.logged_at, 1, 7)
        AND user_id = old.logged_by AND entries <= 0;
    DELETE FROM worklog_day WHERE workspace_id = old.workspace_id AND day = old.logged_at AND entries <= 0;
END;
