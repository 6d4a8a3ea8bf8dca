-- Staff records of a workspace (issue 14, seed 003). One profile per member per workspace,
-- keyed `{workspace}:{user}` so two admins who record the same person offline write one
-- record. The profile (the fields every member may see) lives in the workspace document;
-- phone, job grade and notes live in `staff_private`, and the history of transfers in
-- `staff_transfers`, both in the workspace's staff document (`staff:{workspace}`), which
-- only workspace admins read and write: those fields never reach a member's device.
CREATE TABLE staff_profiles (
    id                    TEXT PRIMARY KEY,
    workspace_id          TEXT NOT NULL,
    user_id               TEXT NOT NULL,
    staff_id              TEXT NOT NULL,
    department_id         TEXT,
    position              TEXT NOT NULL DEFAULT '',
    date_of_joining       TEXT,
    date_of_leaving       TEXT,
    employment_status     TEXT NOT NULL,
    is_department_manager INTEGER NOT NULL DEFAULT 0,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    created_by            TEXT,
    deleted_at            TEXT
) STRICT;
-- Staff ids are unique among live profiles by the record rules, not by an index (two
-- devices may give one id offline, and both rows must project for the merge to resolve).
CREATE INDEX staff_by_staff_id ON staff_profiles(workspace_id, staff_id COLLATE NOCASE) WHERE deleted_at IS NULL;
CREATE INDEX staff_by_department ON staff_profiles(workspace_id, department_id, employment_status) WHERE deleted_at IS NULL;

CREATE TABLE staff_private (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    phone        TEXT NOT NULL DEFAULT '',
    job_grade    TEXT NOT NULL DEFAULT '',
    notes        TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT,
    deleted_at   TEXT
) STRICT;

CREATE TABLE staff_transfers (
    id                 TEXT PRIMARY KEY,
    workspace_id       TEXT NOT NULL,
    user_id            TEXT NOT NULL,
    from_department_id TEXT,
    to_department_id   TEXT,
    effective_date     TEXT NOT NULL,
    reason             TEXT NOT NULL DEFAULT '',
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    created_by         TEXT,
    deleted_at         TEXT
) STRICT;
CREATE INDEX staff_transfers_by_user ON staff_transfers(workspace_id, user_id, effective_date);
