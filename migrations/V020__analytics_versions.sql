-- Keel schema, version 20: a version of each workspace's work items and time for analytics.
-- The chart builder aggregates a workspace's facts (issues with their labels and assignees,
-- and its work logs) kept in memory (`analytics::facts`); a GROUP BY over 100k issues joined
-- to their labels took 280-350 ms in SQLite. The facts are loaded again only when this
-- version moved. Triggers move it in the same transaction as any change to what the facts
-- hold (an issue's fields that charts count by, a label or assignee link, a state's group,
-- a work log's issue, person, day or minutes, a deletion), for every writer (the projection,
-- a rebuild, a device, plain SQL). The projection writes every column of a row on each
-- upsert, so an update moves the version only WHEN one of those columns changed: a new title
-- or description, a manual reorder or a log's note do not. Departments of assignees come
-- from `org_versions`.
CREATE TABLE analytics_versions (
    workspace_id TEXT PRIMARY KEY,
    version      INTEGER NOT NULL
) STRICT;

CREATE TRIGGER analytics_version_issues_insert AFTER INSERT ON issues BEGIN
    INSERT INTO analytics_versions(workspace_id, version) VALUES (new.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER analytics_version_issues_update AFTER UPDATE ON issues
WHEN old.workspace_id IS NOT new.workspace_id
    OR old.project_id IS NOT new.project_id
    OR old.state_id IS NOT new.state_id
    OR old.priority IS NOT new.priority
    OR old.estimate_point IS NOT new.estimate_point
    OR old.estimate_time IS NOT new.estimate_time
    OR old.start_date IS NOT new.start_date
    OR old.target_date IS NOT new.target_date
    OR old.created_at IS NOT new.created_at
    OR old.completed_at IS NOT new.completed_at
    OR old.created_by IS NOT new.created_by
    OR old.cycle_id IS NOT new.cycle_id
    OR old.module_id IS NOT new.module_id
    OR old.parent_id IS NOT new.parent_id
    OR old.deleted_at IS NOT new.deleted_at
BEGIN
    INSERT INTO analytics_versions(workspace_id, version) VALUES (new.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
    INSERT INTO analytics_versions(workspace_id, version) VALUES (old.workspace_id, 1)
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
CREATE TRIGGER analytics_version_issue_labels_update AFTER UPDATE ON issue_labels
WHEN old.workspace_id IS NOT new.workspace_id
    OR old.project_id IS NOT new.project_id
    OR old.issue_id IS NOT new.issue_id
    OR old.label_id IS NOT new.label_id
    OR old.deleted_at IS NOT new.deleted_at
BEGIN
    INSERT INTO analytics_versions(workspace_id, version) VALUES (new.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
    INSERT INTO analytics_versions(workspace_id, version) VALUES (old.workspace_id, 1)
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
CREATE TRIGGER analytics_version_issue_assignees_update AFTER UPDATE ON issue_assignees
WHEN old.workspace_id IS NOT new.workspace_id
    OR old.project_id IS NOT new.project_id
    OR old.issue_id IS NOT new.issue_id
    OR old.user_id IS NOT new.user_id
    OR old.deleted_at IS NOT new.deleted_at
BEGIN
    INSERT INTO analytics_versions(workspace_id, version) VALUES (new.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
    INSERT INTO analytics_versions(workspace_id, version) VALUES (old.workspace_id, 1)
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
CREATE TRIGGER analytics_version_states_update AFTER UPDATE ON states
WHEN old.workspace_id IS NOT new.workspace_id
    OR old.state_group IS NOT new.state_group
BEGIN
    INSERT INTO analytics_versions(workspace_id, version) VALUES (new.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
    INSERT INTO analytics_versions(workspace_id, version) VALUES (old.workspace_id, 1)
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
CREATE TRIGGER analytics_version_worklogs_update AFTER UPDATE ON worklogs
WHEN old.workspace_id IS NOT new.workspace_id
    OR old.project_id IS NOT new.project_id
    OR old.issue_id IS NOT new.issue_id
    OR old.logged_by IS NOT new.logged_by
    OR old.logged_at IS NOT new.logged_at
    OR old.duration_minutes IS NOT new.duration_minutes
    OR old.deleted_at IS NOT new.deleted_at
BEGIN
    INSERT INTO analytics_versions(workspace_id, version) VALUES (new.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
    INSERT INTO analytics_versions(workspace_id, version) VALUES (old.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER analytics_version_worklogs_delete AFTER DELETE ON worklogs BEGIN
    INSERT INTO analytics_versions(workspace_id, version) VALUES (old.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
END;

-- The facts of a workspace are read project by project; its links by project too.
CREATE INDEX issue_labels_project ON issue_labels(project_id, issue_id, label_id) WHERE deleted_at IS NULL;
CREATE INDEX issue_assignees_project ON issue_assignees(project_id, issue_id, user_id) WHERE deleted_at IS NULL;
