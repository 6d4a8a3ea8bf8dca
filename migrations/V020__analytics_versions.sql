-- Keel schema, version 20: a version of each workspace's work items and time for analytics.
-- The chart builder aggregates a workspace's facts (issues with their labels and assignees,
-- and its work logs) kept in memory (`analytics::facts`); a GROUP BY over 100k issues joined
-- to their labels took 280-350 ms in SQLite, the same pass over the kept facts a few ms.
-- The facts are loaded again only when this version moved. Triggers move it in the same
-- transaction as any change to an issue, a label or assignee link, a state (its group) or a
-- work log, for every writer (the projection, a rebuild, a device, plain SQL). Departments
-- of assignees come from `org_versions`.
CREATE TABLE analytics_versions (
    workspace_id TEXT PRIMARY KEY,
    version      INTEGER NOT NULL
) STRICT;

CREATE TRIGGER analytics_version_issues_insert AFTER INSERT ON issues BEGIN
    INSERT INTO analytics_versions(workspace_id, version) VALUES (new.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER analytics_version_issues_update AFTER UPDATE ON issues BEGIN
    INSERT INTO analytics_versions(workspace_id, version) VALUES (new.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER analytics_version_issues_delete AFTER DELETE ON issues BEGIN
    INSERT INTO analytics_versions(workspace_id, version) VALUES (old.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER analytics_version_issue_labels_insert AFTER INSERT ON issue_labels BEGIN
    INSERT INTO analytics_versions(workspace_id, version) VALUES (new.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER analytics_version_issue_labels_update AFTER UPDATE ON issue_labels BEGIN
    INSERT INTO analytics_versions(workspace_id, version) VALUES (new.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER analytics_version_issue_labels_delete AFTER DELETE ON issue_labels BEGIN
    INSERT INTO analytics_versions(workspace_id, version) VALUES (old.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER analytics_version_issue_assignees_insert AFTER INSERT ON issue_assignees BEGIN
    INSERT INTO analytics_versions(workspace_id, version) VALUES (new.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER analytics_version_issue_assignees_update AFTER UPDATE ON issue_assignees BEGIN
    INSERT INTO analytics_versions(workspace_id, version) VALUES (new.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER analytics_version_issue_assignees_delete AFTER DELETE ON issue_assignees BEGIN
    INSERT INTO analytics_versions(workspace_id, version) VALUES (old.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER analytics_version_states_insert AFTER INSERT ON states BEGIN
    INSERT INTO analytics_versions(workspace_id, version) VALUES (new.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER analytics_version_states_update AFTER UPDATE ON states BEGIN
    INSERT INTO analytics_versions(workspace_id, version) VALUES (new.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER analytics_version_states_delete AFTER DELETE ON states BEGIN
    INSERT INTO analytics_versions(workspace_id, version) VALUES (old.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER analytics_version_worklogs_insert AFTER INSERT ON worklogs BEGIN
    INSERT INTO analytics_versions(workspace_id, version) VALUES (new.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER analytics_version_worklogs_update AFTER UPDATE ON worklogs BEGIN
    INSERT INTO analytics_versions(workspace_id, version) VALUES (new.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER analytics_version_worklogs_delete AFTER DELETE ON worklogs BEGIN
    INSERT INTO analytics_versions(workspace_id, version) VALUES (old.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
END;

-- The facts of a workspace are read project by project; its links by project too.
CREATE INDEX issue_labels_project ON issue_labels(project_id, issue_id, label_id) WHERE deleted_at IS NULL;
CREATE INDEX issue_assignees_project ON issue_assignees(project_id, issue_id, user_id) WHERE deleted_at IS NULL;
