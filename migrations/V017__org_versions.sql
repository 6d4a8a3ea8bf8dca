-- A version of each workspace's organisation: it changes in the same transaction as any
-- department, any staff record (counts), or the name of a department's manager. The
-- department tree (2,000 departments: about 1 MB of JSON, 15 ms to read and write) is
-- kept in memory per workspace with the version it was made at, and made again only when
-- the version moved; an edit of an issue or a work log does not move it. Derived, like
-- the rollups: triggers keep it for every writer (the projection, a rebuild, a device).
CREATE TABLE org_versions (
    workspace_id TEXT PRIMARY KEY,
    version      INTEGER NOT NULL
) STRICT;

-- Every workspace that already has an organisation starts at 1, so the triggers below
-- (which move existing versions) cover it from the first change.
INSERT INTO org_versions(workspace_id, version)
SELECT workspace_id, 1 FROM departments UNION SELECT workspace_id, 1 FROM staff_profiles;

CREATE TRIGGER org_version_department_insert AFTER INSERT ON departments BEGIN
    INSERT INTO org_versions(workspace_id, version) VALUES (new.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER org_version_department_update AFTER UPDATE ON departments BEGIN
    INSERT INTO org_versions(workspace_id, version) VALUES (new.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER org_version_department_delete AFTER DELETE ON departments BEGIN
    INSERT INTO org_versions(workspace_id, version) VALUES (old.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER org_version_staff_insert AFTER INSERT ON staff_profiles BEGIN
    INSERT INTO org_versions(workspace_id, version) VALUES (new.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER org_version_staff_update AFTER UPDATE ON staff_profiles BEGIN
    INSERT INTO org_versions(workspace_id, version) VALUES (new.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER org_version_staff_delete AFTER DELETE ON staff_profiles BEGIN
    INSERT INTO org_versions(workspace_id, version) VALUES (old.workspace_id, 1)
    ON CONFLICT(workspace_id) DO UPDATE SET version = version + 1;
END;

-- A manager's name shows in the tree; their account may also arrive after the department.
CREATE TRIGGER org_version_manager_insert AFTER INSERT ON users BEGIN
    UPDATE org_versions SET version = version + 1
    WHERE workspace_id IN (SELECT workspace_id FROM departments WHERE manager_id = new.id);
END;
CREATE TRIGGER org_version_manager_update AFTER UPDATE OF display_name ON users BEGIN
    UPDATE org_versions SET version = version + 1
    WHERE workspace_id IN (SELECT workspace_id FROM departments WHERE manager_id = new.id);
END;
CREATE TRIGGER org_version_manager_delete AFTER DELETE ON users BEGIN
    UPDATE org_versions SET version = version + 1
    WHERE workspace_id IN (SELECT workspace_id FROM departments WHERE manager_id = old.id);
END;

CREATE INDEX departments_manager ON departments(manager_id) WHERE manager_id IS NOT NULL;
